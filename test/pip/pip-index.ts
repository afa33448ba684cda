/**
 * Test helpers for pip: archive fixtures into sdists and wheels (archiving only: nothing of a
 * fixture runs on the host) and serve them from a local PEP 503 simple index on loopback.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { packageRoot } from '../../src/package-root.js';

export const PIP_FIXTURES = path.join(packageRoot().dir, 'fixtures', 'pip');

/**
 * `fixtures/pip/sdist/<fixture>` (default: `<name>`) as `<outDir>/<name>-<version>.tar.gz` (tar of
 * `<name>-<version>/`). A second version of a project lives in `<name>@<version>/`.
 */
export function makeSdist(name: string, outDir: string, version = '1.0.0', fixture = name): string {
  const stage = fs.mkdtempSync(path.join(outDir, '.stage-'));
  const top = `${name}-${version}`;
  fs.cpSync(path.join(PIP_FIXTURES, 'sdist', fixture), path.join(stage, top), { recursive: true });
  const out = path.join(outDir, `${top}.tar.gz`);
  const r = spawnSync('tar', ['-czf', out, '-C', stage, top], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  fs.rmSync(stage, { recursive: true, force: true });
  return out;
}

/** `fixtures/pip/wheel/<name>` zipped as a py3-none-any wheel, with a RECORD made here. */
export function makeWheel(name: string, outDir: string, version = '1.0.0'): string {
  const dist = name.replace(/-/g, '_');
  const out = path.join(outDir, `${dist}-${version}-py3-none-any.whl`);
  const code = `
import base64, hashlib, os, sys, zipfile
src, out, record = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for d, _, files in sorted(os.walk(src)):
        for f in sorted(files):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, src).replace(os.sep, '/')
            data = open(p, 'rb').read()
            z.writestr(rel, data)
            rows.append(rel + ',sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode() + ',' + str(len(data)))
    rows.append(record + ',,')
    z.writestr(record, '\\n'.join(rows) + '\\n')
`;
  const r = spawnSync('python3', ['-I', '-B', '-c', code, path.join(PIP_FIXTURES, 'wheel', name), out, `${dist}-${version}.dist-info/RECORD`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`zip failed: ${r.stderr}`);
  return out;
}

export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A PEP 503 simple index of the files in `dir` (names from the file names), on 127.0.0.1. */
export async function startSimpleIndex(dir: string): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const norm = (s: string) => s.toLowerCase().replace(/[-_.]+/g, '-');
  const projectOf = (file: string) => norm(file.endsWith('.whl') ? file.split('-')[0]! : file.replace(/-[^-]+\.(tar\.gz|zip)$/, ''));
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '/');
    requests.push(url);
    const files = fs.readdirSync(dir).filter((f) => /\.(whl|tar\.gz|zip)$/.test(f));
    const m = /^\/simple\/([^/]+)\/?$/.exec(url);
    if (m) {
      const mine = files.filter((f) => projectOf(f) === norm(m[1]!));
      if (mine.length === 0) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body>${mine.map((f) => `<a href="/files/${f}#sha256=${sha256(path.join(dir, f))}">${f}</a>`).join('\n')}</body></html>`);
      return;
    }
    const f = /^\/files\/([^/]+)$/.exec(url);
    if (f && files.includes(f[1]!)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(fs.readFileSync(path.join(dir, f[1]!)));
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/simple`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** sha256 of every file under `dir` (paths relative), to prove an environment did not change. */
export function treeDigest(dir: string): string {
  const h = crypto.createHash('sha256');
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      h.update(`${path.relative(dir, p)}\0${e.isDirectory() ? 'd' : e.isSymbolicLink() ? `l${fs.readlinkSync(p)}` : 'f'}\0`);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}
