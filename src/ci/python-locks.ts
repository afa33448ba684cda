/**
 * uv.lock and poetry.lock: TOML, one `[[package]]` table per locked distribution, with its name,
 * version, where it comes from, and the sha256 of every file (sdist and wheels) it may be
 * installed from. Each becomes a Python locked package (`name==version`, allowed only those
 * hashes); its line is its `[[package]]` header, found in the text (TOML readers keep no
 * positions, and the n-th header is the n-th table of the array).
 *
 * Sources the pip front-end can fetch: an index (uv `registry`, poetry's default PyPI or a
 * `legacy` source) and local archives (uv `path`, poetry `file`). The project itself (uv
 * `editable` / `virtual`, poetry `develop = true` directories) is not a dependency and is left
 * out. Anything else (git, direct URLs, local folders) is kept without a `requirement`: the gate
 * refuses to call such a change vetted.
 */
import { parse, TomlError } from 'smol-toml';
import { SafeInstallError } from '../errors/index.js';
import { canonicalName } from './requirements.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

const ARCHIVE = /\.(whl|tar\.gz|zip)$/i;
type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function readToml(text: string, file: string, tool: string): { doc: Table; packages: Table[]; lines: number[] } {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    const line = err instanceof TomlError ? err.line : '?';
    throw new SafeInstallError('E_LOCKFILE', `${file}:${line}: not valid TOML: ${(err as Error).message.split('\n')[0]}`, `fix the lockfile (or regenerate it with \`${tool} lock\`)`);
  }
  const packages = Array.isArray(doc.package) ? doc.package.filter(isTable) : [];
  const lines: number[] = [];
  text.split(/\r\n|\r|\n/).forEach((row, i) => {
    if (/^\s*\[\[\s*package\s*\]\]\s*(#.*)?$/.test(row)) lines.push(i + 1);
  });
  return { doc, packages, lines };
}

/** The sha256 hashes of a lock's file entries (`{ hash = "sha256:…" }`), lower-case, sorted. */
function hashesOf(files: unknown[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    const hash = isTable(f) ? str(f.hash) : undefined;
    if (hash && /^sha256:[0-9a-fA-F]{64}$/.test(hash)) out.add(`sha256:${hash.slice(7).toLowerCase()}`);
  }
  return [...out].sort();
}

function entry(name: string, version: string, line: number, fields: { requirement?: string; resolved?: string; hashes: string[] }): LockedPackage {
  const canon = canonicalName(name);
  return {
    name: canon,
    version,
    key: canon,
    line,
    ecosystem: 'pypi',
    ...(fields.requirement !== undefined ? { requirement: fields.requirement } : {}),
    ...(fields.resolved !== undefined ? { resolved: fields.resolved } : {}),
    ...(fields.hashes.length > 0 ? { hashes: fields.hashes } : {}),
  };
}

/** uv.lock (version 1): `source = { registry | path | directory | editable | virtual | git | url = … }`. */
export function parseUvLock(text: string, file: string): ParsedLockfile {
  const { packages: tables, lines } = readToml(text, file, 'uv');
  const packages: LockedPackage[] = [];
  tables.forEach((pkg, i) => {
    const name = str(pkg.name);
    const version = str(pkg.version);
    const source = isTable(pkg.source) ? pkg.source : {};
    if (!name || 'editable' in source || 'virtual' in source) return;
    if (!version) return;
    const line = lines.length === tables.length ? lines[i]! : 1;
    const files = [...(isTable(pkg.sdist) ? [pkg.sdist] : []), ...(Array.isArray(pkg.wheels) ? pkg.wheels : [])];
    const hashes = hashesOf(files);
    const registry = str(source.registry);
    const local = str(source.path);
    if (registry) packages.push(entry(name, version, line, { requirement: `${canonicalName(name)}==${version}`, resolved: registry, hashes }));
    else if (local && ARCHIVE.test(local)) packages.push(entry(name, version, line, { requirement: local, resolved: local, hashes }));
    else {
      const [kind, where] = Object.entries(source)[0] ?? ['unknown', ''];
      packages.push(entry(name, version, line, { resolved: `${kind}: ${String(where)}`, hashes }));
    }
  });
  return { kind: 'uv-lock', path: file, packages };
}

/** poetry.lock (lock-version 1.x and 2.x): `files` per package, or `[metadata.files]` in 1.x. */
export function parsePoetryLock(text: string, file: string): ParsedLockfile {
  const { doc, packages: tables, lines } = readToml(text, file, 'poetry');
  const metadataFiles = isTable(doc.metadata) && isTable(doc.metadata.files) ? doc.metadata.files : {};
  const packages: LockedPackage[] = [];
  tables.forEach((pkg, i) => {
    const name = str(pkg.name);
    const version = str(pkg.version);
    if (!name || !version) return;
    const source = isTable(pkg.source) ? pkg.source : {};
    const type = str(source.type);
    if (type === 'directory' && pkg.develop === true) return;
    const line = lines.length === tables.length ? lines[i]! : 1;
    const files = Array.isArray(pkg.files) ? pkg.files : Array.isArray(metadataFiles[name]) ? (metadataFiles[name] as unknown[]) : [];
    const hashes = hashesOf(files);
    const url = str(source.url);
    if (type === undefined || type === 'legacy') {
      packages.push(entry(name, version, line, { requirement: `${canonicalName(name)}==${version}`, ...(url ? { resolved: url } : {}), hashes }));
    } else if (type === 'file' && url && ARCHIVE.test(url)) {
      packages.push(entry(name, version, line, { requirement: url, resolved: url, hashes }));
    } else {
      packages.push(entry(name, version, line, { resolved: `${type}: ${url ?? ''}`, hashes }));
    }
  });
  return { kind: 'poetry-lock', path: file, packages };
}
