/**
 * The target Python: which interpreter pip installs into (an active virtualenv's, or the one
 * named), and the helper (helper-py.ts) run by it. Nothing of a package is imported or run:
 * `-I` ignores PYTHON* variables and the user site, `-B` writes no bytecode, so the
 * environment's folders stay byte-identical.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError, type ErrorCode } from '../errors/index.js';
import { HELPER_PY } from './helper-py.js';

/** `--python` if given, else the active virtualenv's interpreter, else `python3` on PATH. */
export function targetPython(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  const venv = env.VIRTUAL_ENV;
  if (venv) {
    const py = path.join(venv, 'bin', 'python');
    if (fs.existsSync(py)) return py;
  }
  return 'python3';
}

export async function runHelper<T>(python: string, op: string, input: unknown): Promise<T> {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(python, ['-I', '-B', '-c', HELPER_PY, op], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    child.stdin.end(JSON.stringify(input));
  }).catch((err: unknown) => {
    throw new SafeInstallError('E_USAGE', `cannot run ${python}: ${(err as Error).message}`, 'activate your virtualenv, or pass --python PATH');
  });
  let parsed: { ok?: T; error?: { code: ErrorCode; message: string; hint: string } };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    const last = stderr.trim().split('\n').pop() ?? '';
    if (/No module named 'pip/.test(stderr)) {
      throw new SafeInstallError('E_USAGE', `${python} has no pip`, 'use a Python with pip (a virtualenv made by `python3 -m venv` has it)');
    }
    throw new SafeInstallError('E_INTERNAL', `the pip helper failed (${op}, exit ${code}): ${last}`, 'this is a bug in safe-install; rerun with SAFE_INSTALL_DEBUG=1 and report it');
  }
  if (parsed.error) throw new SafeInstallError(parsed.error.code, parsed.error.message, parsed.error.hint);
  return parsed.ok as T;
}
