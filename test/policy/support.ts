/** Temporary project and user folders holding policy files, for loading tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SafeInstallError } from '../../src/errors/index.js';

export function tempDir(prefix = 'si-policy-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes `files` (name → content) into a new temp dir and returns it. */
export function folder(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** An empty user config dir, so tests never read the real one. */
export const NO_USER = path.join(os.tmpdir(), 'si-policy-no-user-config');

export async function policyError(promise: Promise<unknown>): Promise<SafeInstallError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SafeInstallError) return err;
    throw err;
  }
  throw new Error('expected a policy error');
}

/** YAML text from indented lines, so line numbers in tests are easy to count. */
export function lines(...text: string[]): string {
  return `${text.join('\n')}\n`;
}
