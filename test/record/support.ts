import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectProvenance } from '../../src/provenance/index.js';
import { appendRecord } from '../../src/record/index.js';
import { assess } from '../../src/rules/index.js';
import { buildScan } from '../report/fixture.js';

export function tempStore(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'si-record-'));
}

/** Append `n` scan records of the report fixture (a real assessment of a realistic chain). */
export async function appendScans(dir: string, n: number, env: NodeJS.ProcessEnv = {}, prefix = 'session'): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { chain } = buildScan();
    chain.id = `${prefix}-${i + 1}`;
    await appendRecord({ kind: 'scan', chain, assessment: assess(chain), provenance: collectProvenance(), command: ['scan', `pkg-${i + 1}`], dir, env });
  }
}

export function lines(dir: string): string[] {
  return fs.readFileSync(path.join(dir, 'records.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
}

export function writeLines(dir: string, ls: string[]): void {
  fs.writeFileSync(path.join(dir, 'records.jsonl'), ls.map((l) => `${l}\n`).join(''));
}
