/** Writing report files: one place, so every format fails the same way (exit 2, with the path). */
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError } from '../../errors/index.js';

export function writeReportFile(file: string, content: string, what: string): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, content);
  } catch (err) {
    throw new SafeInstallError('E_USAGE', `cannot write the ${what} to ${file}: ${(err as Error).message}`, 'pass a path in a writable folder');
  }
}

export function appendStepSummary(content: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  try {
    fs.appendFileSync(file, `${content}\n`);
  } catch (err) {
    throw new SafeInstallError('E_USAGE', `cannot append to $GITHUB_STEP_SUMMARY (${file}): ${(err as Error).message}`, 'unset GITHUB_STEP_SUMMARY or make it writable');
  }
}
