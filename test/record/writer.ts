// A separate process that appends records: the concurrency test runs several at once.
import { appendScans } from './support.js';

const [dir, who, count] = process.argv.slice(2) as [string, string, string];
await appendScans(dir, Number(count), {}, `writer${who}`);
