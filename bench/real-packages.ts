/**
 * Scans popular packages with install scripts from the real npm registry and prints the table
 * the README shows: package, verdict, findings, time. Not a test: the registry changes under
 * it. `npm run bench:real` (optionally with package specs as arguments).
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { scan } from '../src/pipeline/scan.js';
import { packageRoot } from '../src/package-root.js';

const DEFAULT_PACKAGES = [
  'esbuild',
  'core-js',
  'bufferutil',
  'utf-8-validate',
  'es5-ext',
  '@swc/core',
  'msgpackr-extract',
  '@parcel/watcher',
  'sqlite3',
  'bcrypt',
  'argon2',
  'node-pty',
  'puppeteer',
  'cypress',
];

interface Row {
  spec: string;
  verdict: string;
  findings: string;
  seconds: number;
}

async function main(): Promise<void> {
  const specs = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT_PACKAGES;
  const rows: Row[] = [];
  for (const spec of specs) {
    const start = performance.now();
    try {
      const { chain, assessment } = await scan({ specs: [spec], limits: { scriptTimeoutMs: 180_000 } });
      const top = chain.packages.find((p) => p.info.name === spec.replace(/(.)@.*$/, '$1'));
      const findings = assessment.packages
        .flatMap((p) => p.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.rule}: ${f.message}`))
        .slice(0, 4);
      rows.push({
        spec: top ? `${top.info.name}@${top.info.version}` : spec,
        verdict: assessment.verdict,
        findings: findings.length ? findings.join('; ') : 'only info findings',
        seconds: (performance.now() - start) / 1000,
      });
    } catch (err) {
      rows.push({ spec, verdict: 'error', findings: (err as Error).message, seconds: (performance.now() - start) / 1000 });
    }
    const last = rows[rows.length - 1]!;
    console.error(`${last.spec}: ${last.verdict} (${last.seconds.toFixed(1)} s) ${last.findings}`);
  }
  const table = [
    '| package | verdict | findings (above info) | time |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.spec} | ${r.verdict} | ${r.findings.replace(/\|/g, '\\|')} | ${r.seconds.toFixed(1)} s |`),
  ].join('\n');
  const outDir = path.join(packageRoot().dir, '.bench-out');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'real-packages.md'), `${table}\n`);
  console.log(table);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
