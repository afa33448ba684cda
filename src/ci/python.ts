/**
 * The gate's Python half. What it reads (text only, like the npm lockfiles: no Python, no
 * network, no Docker until something changed):
 *
 * - every `requirements*.txt` at the repository root, and the files they include (`-r`, and `-c`
 *   whose lines constrain but are never installed by themselves);
 * - `uv.lock` and `poetry.lock` at the root.
 *
 * What it runs for the changes: the pip front-end's vetting (src/pip/pipeline.ts), with nothing
 * installed. One pip request per changed install: a root requirements file with what it includes
 * (the changed lines are what is asked for; every other pinned line of those files constrains
 * the dependencies they pull in, as `pip install -r` would see them), and each lockfile (only
 * its changed entries, without dependencies: a lockfile lists those itself). Unpinned lines are
 * resolved on the index the way pip would, without building anything. The union runs in one
 * sandbox session: sdists are built and traced, every wheel is inspected. Changed packages whose
 * new version is an sdist are then vetted at their base version in one more pass, for the
 * behaviour diff (`behaviourDiffs`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError } from '../errors/index.js';
import { diffChangedVersions, findPackage, hasInstallTimeCode } from '../diff/behaviour.js';
import type { BehaviourDiff } from '../diff/types.js';
import { vetPipRequests, type PipRequest, type RequirementEntry, type Resolution } from '../pip/pipeline.js';
import { buildJsonReport, type JsonReport } from '../report/json.js';
import type { ScanOptions } from '../pipeline/scan.js';
import { fileAt } from './git.js';
import { changedVersion, diffLockfiles } from './lockfile-diff.js';
import { parsePoetryLock, parseUvLock } from './python-locks.js';
import { parseRequirements } from './requirements.js';
import type { LockedPackage, LockfileChange, PackageLocation, ParsedLockfile, ParsedRequirements } from './types.js';

export const ROOT_REQUIREMENTS = /^requirements.*\.txt$/;
const LOCKS: { file: string; parse: (text: string, file: string) => ParsedLockfile }[] = [
  { file: 'uv.lock', parse: parseUvLock },
  { file: 'poetry.lock', parse: parsePoetryLock },
];

/** Index options for Python, from `safe-install ci`'s flags; pip's config and PIP_* variables apply below them. */
export interface PythonIndexOptions {
  indexUrl?: string;
  extraIndexUrls?: string[];
  findLinks?: string[];
  noIndex?: boolean;
  /** The interpreter whose pip, tags and markers resolution follows (default: the virtualenv's, else python3). */
  python?: string;
}

/** The Python files of the working tree, parsed. */
export interface PythonTree {
  /** Root requirements files, sorted. */
  roots: string[];
  /** Every requirements-format file read (roots and includes), by repository path. */
  requirements: Map<string, ParsedRequirements>;
  /** Files only ever included with `-c`: constraints, not installs. */
  constraintOnly: Set<string>;
  locks: ParsedLockfile[];
  /** Lockfiles that do not parse: an error only if they changed. */
  brokenLocks: Map<string, SafeInstallError>;
}

export interface PythonDelta {
  /** The files compared (not constraint-only files), for reports. */
  files: string[];
  changes: LockfileChange[];
  notes: string[];
  tree: PythonTree;
}

/** Step 1 for Python: cheap, text only. */
export async function pythonDelta(root: string, baseCommit: string | null, env: NodeJS.ProcessEnv): Promise<PythonDelta> {
  const tree = readTree(root, env);
  const files: string[] = [];
  const changes: LockfileChange[] = [];
  const notes: string[] = [];
  /** The base version of `head`'s file, parsed; `changed` false when its text did not change. */
  const compare = async <T extends ParsedLockfile>(head: T, parse: (text: string) => T): Promise<{ changed: boolean; base: T | null }> => {
    files.push(head.path);
    const headText = fs.readFileSync(path.join(root, head.path), 'utf8');
    const baseText = await fileAt(root, baseCommit, head.path);
    if (baseText === headText) return { changed: false, base: null };
    let base: T | null = null;
    // A base the parser refuses compares as empty: everything is new, so more is vetted, never less.
    if (baseText !== null) {
      try {
        base = parse(baseText);
      } catch {
        base = null;
      }
    }
    changes.push(...diffLockfiles(base, head));
    return { changed: true, base };
  };
  for (const file of [...tree.requirements.keys()].sort()) {
    if (tree.constraintOnly.has(file)) continue;
    const head = tree.requirements.get(file)!;
    const { changed, base } = await compare(head, (text) => parseRequirements(text, file, env));
    if (!changed) continue;
    // A changed file must be read whole; an unchanged one only matters if a change depends on it (step 2).
    if (head.problems.length > 0) throw head.problems[0]!;
    for (const skip of head.skipped) {
      if (!base?.skipped.some((b) => b.why === skip.why)) notes.push(`${file}:${skip.line}: ${skip.why} was not sandboxed`);
    }
  }
  for (const lock of tree.locks) {
    await compare(lock, (text) => LOCKS.find((l) => l.file === lock.path)!.parse(text, lock.path));
  }
  for (const [file, err] of tree.brokenLocks) {
    files.push(file);
    if ((await fileAt(root, baseCommit, file)) !== fs.readFileSync(path.join(root, file), 'utf8')) throw err;
  }
  return { files, changes, notes, tree };
}

function readTree(root: string, env: NodeJS.ProcessEnv): PythonTree {
  const roots = fs.readdirSync(root).filter((f) => ROOT_REQUIREMENTS.test(f) && fs.statSync(path.join(root, f)).isFile()).sort();
  const requirements = new Map<string, ParsedRequirements>();
  const asRequirement = new Set<string>();
  const visit = (file: string, constraint: boolean, from: string | null): void => {
    if (!constraint) asRequirement.add(file);
    if (requirements.has(file)) return;
    const full = path.join(root, file);
    if (!fs.existsSync(full)) {
      throw new SafeInstallError('E_LOCKFILE', `${from ?? file} includes ${file}, which does not exist`, 'fix the -r / -c line: pip would fail on it too');
    }
    const parsed = parseRequirements(fs.readFileSync(full, 'utf8'), file, env, { collect: true });
    requirements.set(file, parsed);
    for (const d of parsed.directives) {
      if (d.kind === 'requirement' || d.kind === 'constraint') visit(d.path, constraint || d.kind === 'constraint', `${file}:${d.line}`);
    }
  };
  for (const file of roots) visit(file, false, null);
  // A file first seen through -c and later through -r is a requirements file after all.
  const again = (file: string, constraint: boolean, seen: Set<string>): void => {
    if (seen.has(`${file}\0${constraint}`)) return;
    seen.add(`${file}\0${constraint}`);
    if (!constraint) asRequirement.add(file);
    for (const d of requirements.get(file)?.directives ?? []) {
      if (d.kind === 'requirement' || d.kind === 'constraint') again(d.path, constraint || d.kind === 'constraint', seen);
    }
  };
  const seen = new Set<string>();
  for (const file of roots) again(file, false, seen);
  const constraintOnly = new Set([...requirements.keys()].filter((f) => !asRequirement.has(f)));
  const locks: ParsedLockfile[] = [];
  const brokenLocks = new Map<string, SafeInstallError>();
  for (const { file, parse } of LOCKS) {
    const full = path.join(root, file);
    if (!fs.existsSync(full)) continue;
    try {
      locks.push(parse(fs.readFileSync(full, 'utf8'), file));
    } catch (err) {
      if (!(err instanceof SafeInstallError)) throw err;
      brokenLocks.set(file, err);
    }
  }
  return { roots, requirements, constraintOnly, locks, brokenLocks };
}

export interface PythonVetOptions {
  root: string;
  tool: { name: string; version: string };
  scan: Omit<ScanOptions, 'specs' | 'registry'>;
  index?: PythonIndexOptions;
  /** Told which phase runs, for progress on stderr. */
  onPhase?: (message: string) => void;
}

export interface PythonVetResult {
  /** One per sandbox session (usually one). */
  reports: JsonReport[];
  located: PackageLocation[];
  notes: string[];
  /** Changed packages whose new version builds in the sandbox, against their base version. */
  diffs: BehaviourDiff[];
}

/** One pip request: what it asks for, and which change each requirement line is. */
interface Request {
  req: PipRequest;
  /** The changes this request asks for, by origin (`file:line`). */
  changes: Map<string, LockfileChange>;
  /** Every pinned line the request reads, by name: where a dependency of a change is pinned. */
  pinned: Map<string, { lockfile: string; line: number }>;
}

/** Step 2 for Python: vet the changes, in the same ci run. */
export async function vetPythonChanges(changes: readonly LockfileChange[], tree: PythonTree, opts: PythonVetOptions): Promise<PythonVetResult> {
  for (const change of changes) {
    if (change.pkg.requirement === undefined) {
      throw new SafeInstallError(
        'E_LOCKFILE',
        `${change.lockfile}:${change.pkg.line}: ${change.pkg.name} ${change.pkg.version} comes from ${change.pkg.resolved ?? 'a source'} the gate cannot sandbox`,
        'safe-install ci sandboxes Python packages from an index and local archives (.whl, .tar.gz, .zip); publish it to an index, or vet it yourself before merging',
      );
    }
  }
  const requests = [...requirementsRequests(changes, tree, opts), ...lockRequests(changes, tree, opts)];
  if (requests.length === 0) return { reports: [], located: [], notes: [], diffs: [] };
  const vetting = await vetPipRequests(
    requests.map((r) => r.req),
    vetOptions(opts),
  );
  const notes: string[] = [];
  const located: PackageLocation[] = [];
  const sessions = vetting.sessions;
  const incomplete = sessions.flatMap((s) => s.incomplete);
  const blocked = sessions.some((s) => s.verdict === 'block');
  if (incomplete.length > 0 && !blocked) {
    // Without the wheel, what pip would land was never inspected: the gate cannot decide.
    throw new SafeInstallError('E_SANDBOX', incomplete.join('; '), 'pip would most likely fail the same way; fix the build (see `safe-install scan <sdist> --verbose`) or pin a version with a wheel');
  }
  // Blocked anyway, or a wheel for another Python: said, the verdict stands.
  notes.push(...sessions.flatMap((s) => s.failures));

  requests.forEach((request, i) => {
    const resolution = vetting.resolutions[i]!;
    for (const [origin, change] of request.changes) {
      const where = `${change.pkg.name} ${change.pkg.version} (${origin})`;
      const excluded = resolution.markerExcluded.find((m) => m.origin === origin);
      if (excluded) {
        notes.push(`${where} was not sandboxed: its environment marker (${excluded.marker}) excludes ${vetting.python}`);
        continue;
      }
      const dist = resolution.packages.find((p) => p.name === change.pkg.name && p.requiredBy === null) ?? resolution.packages.find((p) => p.name === change.pkg.name);
      if (dist) {
        if (change.pkg.unpinned) change.pkg.version = dist.version;
        continue;
      }
      const unavailable = resolution.unavailable.find((u) => u.name === change.pkg.name);
      if (unavailable) {
        notes.push(`${where} was not sandboxed: none of its files fits ${vetting.python} (${unavailable.files.join(', ')})`);
        continue;
      }
      throw new SafeInstallError('E_RESOLVE', `${where} was not part of the sandboxed tree`, 'this is a bug in safe-install; please report it with the requirements change');
    }
    for (const dist of resolution.packages) {
      const at = originOf(dist.name, resolution, request);
      if (!at) continue;
      const integrity = `sha256-${Buffer.from(dist.sha256, 'hex').toString('base64')}`;
      if (located.some((l) => l.name === dist.name && l.version === dist.version && l.integrity === integrity)) continue;
      located.push({ name: dist.name, version: dist.version, integrity, ...at });
    }
    for (const u of resolution.unavailable.filter((x) => x.requiredBy !== null)) {
      notes.push(`${u.name} ${u.spec} (a dependency of ${u.requiredBy}) was not sandboxed: none of its files fits ${vetting.python} (${u.files.join(', ')})`);
    }
  });
  const reports = sessions.map((s) => buildJsonReport({ chain: s.chain, assessment: s.assessment, tool: opts.tool, provenance: { command: 'ci', python: vetting.python } }));
  const diffs = await behaviourDiffs(requests, reports, opts, notes);
  return { reports, located, notes, diffs };
}

const vetOptions = (opts: PythonVetOptions): Parameters<typeof vetPipRequests>[1] => ({
  ...(opts.index?.python ? { python: opts.index.python } : {}),
  ...(opts.scan.baseImage ? { baseImage: opts.scan.baseImage } : {}),
  ...(opts.scan.limits ? { limits: opts.scan.limits } : {}),
  ...(opts.scan.policy ? { policy: opts.scan.policy } : {}),
  ...(opts.scan.onProgress ? { onProgress: opts.scan.onProgress } : {}),
  previousBuilds: true,
});

/**
 * The behaviour diff for Python, as for npm: every changed package whose new version has
 * build-time code (an sdist built in the sandbox) and whose base pins one version is compared
 * with that version, vetted the same way in one more pass (its own sessions, so each version gets
 * a fresh decoy machine; nothing installed). The base version is asked for from where its request
 * fetches today (the same file's indexes; for a lockfile, the registry its base entry records),
 * alone (no dependencies: the diff is about the package's own build) and with the hashes its base
 * line pinned. A base version that installs from a wheel ran nothing, so everything the new build
 * does is new. The diff explains a verdict, it is not one: what goes wrong here becomes a note.
 */
async function behaviourDiffs(requests: readonly Request[], reports: readonly JsonReport[], opts: PythonVetOptions, notes: string[]): Promise<BehaviourDiff[]> {
  const baseRequests: PipRequest[] = [];
  /** Per base request, the changes it asks the base version of, by their base origin. */
  const asked: Map<string, LockfileChange>[] = [];
  const seen = new Set<LockfileChange>();
  for (const request of requests) {
    const mine = new Map<string, LockfileChange>();
    for (const change of request.changes.values()) {
      const previous = change.previous;
      if (!previous || seen.has(change) || !findPackage(reports, change.pkg.name, change.pkg.version, hasInstallTimeCode)) continue;
      seen.add(change);
      if (previous.requirement === undefined || previous.unpinned || previous.version.startsWith('@')) {
        // A range at the base installed whatever the index had then; git, URL and folder sources
        // are not sandboxed at all: nothing to compare with.
        notes.push(`${change.pkg.name} ${change.pkg.version} (${change.lockfile}:${change.pkg.line}) has no behaviour diff: its base line pins no single version from an index or an archive (${previous.requirement ?? previous.resolved ?? previous.version})`);
        continue;
      }
      mine.set(`${change.lockfile}:${previous.line} at the base (now line ${change.pkg.line})`, change);
    }
    if (mine.size === 0) continue;
    const previous = [...mine.values()].map((c) => c.previous!);
    baseRequests.push({
      ...request.req,
      requirementEntries: [...mine].map(([origin, c]) => ({ ...entryOf(c.previous!, c.lockfile, opts.root), origin })),
      constraintEntries: [],
      noDeps: true,
      // Each base line carries its own hashes, checked when it has them.
      requireHashes: false,
      ...(request.req.sourceIndexUrls ? { sourceIndexUrls: lockSources(previous) } : {}),
    });
    asked.push(mine);
  }
  if (baseRequests.length === 0) return [];
  const compared = asked.flatMap((m) => [...m.values()]);
  opts.onPhase?.(`vetting ${compared.length} Python base version${compared.length === 1 ? '' : 's'} for the behaviour diff`);
  let before: JsonReport[] | null = null;
  try {
    const vetting = await vetPipRequests(baseRequests, vetOptions(opts));
    before = vetting.sessions.map((s) => buildJsonReport({ chain: s.chain, assessment: s.assessment, tool: opts.tool, provenance: { command: 'ci', python: vetting.python } }));
    for (const failure of vetting.sessions.flatMap((s) => s.failures)) notes.push(`behaviour diff: a base version did not vet cleanly, so its diff may show more as new: ${failure}`);
    asked.forEach((mine, i) => {
      const resolution = vetting.resolutions[i]!;
      for (const [origin, change] of mine) {
        const previous = change.previous!;
        if (findPackage(before!, previous.name, previous.version)) continue;
        const excluded = resolution.markerExcluded.find((m) => m.origin === origin);
        const unavailable = resolution.unavailable.find((u) => u.name === previous.name);
        const why = excluded ? `its environment marker (${excluded.marker}) excludes ${vetting.python}` : unavailable ? `none of its files fits ${vetting.python}` : 'it was not part of the vetted tree';
        notes.push(`${change.pkg.name} ${change.pkg.version} (${change.lockfile}:${change.pkg.line}) has no behaviour diff: its base version ${previous.version} was not vetted: ${why}`);
      }
    });
  } catch (err) {
    // Without it the gate still judges the new versions.
    notes.push(`the Python base versions could not be vetted for the behaviour diff: ${(err as Error).message}`);
  }
  return diffChangedVersions(compared.map(changedVersion), reports, before);
}

/**
 * The line a resolved distribution is located at: its own changed line; else the line that pins
 * it in the files the request read; else the changed line whose dependency it is.
 */
function originOf(name: string, resolution: Resolution, request: Request): { lockfile: string; line: number } | null {
  for (const change of request.changes.values()) {
    if (change.pkg.name === name) return { lockfile: change.lockfile, line: change.pkg.line };
  }
  const pinned = request.pinned.get(name);
  if (pinned) return pinned;
  const byName = new Map(resolution.packages.map((p) => [p.name, p]));
  let current = byName.get(name);
  for (let hops = 0; current && current.requiredBy !== null && hops < byName.size; hops++) current = byName.get(current.requiredBy);
  if (!current) return null;
  for (const change of request.changes.values()) {
    if (change.pkg.name === current.name) return { lockfile: change.lockfile, line: change.pkg.line };
  }
  return null;
}

const entryOf = (pkg: LockedPackage, file: string, root: string): RequirementEntry => ({
  spec: pkg.requirement!,
  hashes: pkg.hashes ?? [],
  base: path.join(root, path.posix.dirname(file)),
  origin: `${file}:${pkg.line}`,
});

const baseRequest = (opts: PythonVetOptions): PipRequest => ({
  requirements: [],
  requirementFiles: [],
  constraintFiles: [],
  ...(opts.index?.indexUrl ? { indexUrl: opts.index.indexUrl } : {}),
  extraIndexUrls: [...(opts.index?.extraIndexUrls ?? [])],
  findLinks: [...(opts.index?.findLinks ?? [])],
  noIndex: opts.index?.noIndex === true,
  requireHashes: false,
  pre: false,
  ignoreInstalled: true,
  skipUnavailable: true,
});

/** One request per root requirements file whose reading (itself and what it includes) changed. */
function requirementsRequests(changes: readonly LockfileChange[], tree: PythonTree, opts: PythonVetOptions): Request[] {
  const requests: Request[] = [];
  for (const rootFile of tree.roots) {
    const req = baseRequest(opts);
    const asked = new Map<string, LockfileChange>();
    const pinned = new Map<string, { lockfile: string; line: number }>();
    const constraints: RequirementEntry[] = [];
    let indexUrl: string | undefined;
    const extra: string[] = [];
    const links: string[] = [];
    const seen = new Set<string>();
    const problems: SafeInstallError[] = [];
    // pip's reading order: lines in order, an include where it stands, options applying globally.
    const walk = (file: string, constraint: boolean): void => {
      if (seen.has(`${file}\0${constraint}`)) return;
      seen.add(`${file}\0${constraint}`);
      const parsed = tree.requirements.get(file)!;
      problems.push(...parsed.problems);
      const items = [...parsed.directives.map((d) => ({ line: d.line, d })), ...parsed.packages.map((p) => ({ line: p.line, p }))].sort((a, b) => a.line - b.line);
      for (const item of items) {
        if ('p' in item) {
          const pkg = item.p;
          const change = constraint ? undefined : changes.find((c) => c.lockfile === file && c.pkg.line === pkg.line);
          if (change) asked.set(`${file}:${pkg.line}`, change);
          else if (!pkg.unpinned && !pkg.requirement!.includes('://') && !/\s@\s/.test(pkg.requirement!) && !/\.(whl|tar\.gz|zip)$/i.test(pkg.requirement!)) {
            constraints.push(entryOf(pkg, file, opts.root));
            if (!pinned.has(pkg.name)) pinned.set(pkg.name, { lockfile: file, line: pkg.line });
          }
          continue;
        }
        const d = item.d;
        const dir = path.join(opts.root, path.posix.dirname(file));
        if (d.kind === 'requirement' || d.kind === 'constraint') walk(d.path, constraint || d.kind === 'constraint');
        else if (d.kind === 'index-url') indexUrl = d.value;
        else if (d.kind === 'extra-index-url') extra.push(d.value);
        else if (d.kind === 'find-links') links.push(d.value.includes('://') || path.isAbsolute(d.value) ? d.value : path.join(dir, d.value));
        else if (d.kind === 'no-index') req.noIndex = true;
        else if (d.kind === 'pre') req.pre = true;
        else if (d.kind === 'require-hashes') req.requireHashes = true;
      }
    };
    walk(rootFile, false);
    if (asked.size === 0) continue;
    // What cannot be read faithfully would make this install's resolution a guess.
    if (problems.length > 0) throw problems[0]!;
    // The flags win over the files (a CI mirror), the files over pip's config.
    if (!req.indexUrl && indexUrl) req.indexUrl = indexUrl;
    req.extraIndexUrls.push(...extra.filter((u) => !req.extraIndexUrls.includes(u)));
    req.findLinks.push(...links.filter((l) => !req.findLinks.includes(l)));
    req.requirementEntries = [...asked.values()].map((c) => entryOf(c.pkg, c.lockfile, opts.root));
    req.constraintEntries = constraints;
    requests.push({ req, changes: asked, pinned });
  }
  return requests;
}

/** The indexes lockfile entries come from: poetry records no source for PyPI; uv records it, like any other registry. */
function lockSources(pkgs: readonly LockedPackage[]): string[] {
  const fromIndex = pkgs.filter((p) => p.requirement === `${p.name}==${p.version}`);
  return [...new Set(fromIndex.map((p) => (p.resolved && /^https?:\/\//.test(p.resolved) ? p.resolved : 'https://pypi.org/simple')))];
}

/** One request per lockfile with changes: those entries only, from where the lockfile says. */
function lockRequests(changes: readonly LockfileChange[], tree: PythonTree, opts: PythonVetOptions): Request[] {
  const requests: Request[] = [];
  for (const lock of tree.locks) {
    const mine = changes.filter((c) => c.lockfile === lock.path);
    if (mine.length === 0) continue;
    const req: PipRequest = { ...baseRequest(opts), noDeps: true, sourceIndexUrls: lockSources(mine.map((c) => c.pkg)) };
    req.requirementEntries = mine.map((c) => entryOf(c.pkg, lock.path, opts.root));
    requests.push({ req, changes: new Map(mine.map((c) => [`${lock.path}:${c.pkg.line}`, c])), pinned: new Map() });
  }
  return requests;
}
