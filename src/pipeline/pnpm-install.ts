/**
 * `safe-install pnpm add|install`: pnpm's install, with every dependency build pnpm would run
 * (lifecycle scripts, implicit node-gyp) run in the sandbox first and none on the host.
 *
 * preparePnpmInstall: stage the workspace's install state next to it, let pnpm itself install
 * there with scripts disabled (same resolution, same lockfile; its store checks every tarball
 * against the lockfile's integrity), diff the new lockfile
 * against what is installed (node_modules/.pnpm/lock.yaml), read each new package's scripts
 * from the files pnpm installed, keep only the builds pnpm's own settings allow (the rest are
 * reported as skipped), and run those in ONE sandbox session, packed from the same files.
 * apply: land the sandbox's build outputs in pnpm's virtual store folders of each built
 * package, then move the stage into the project (src/install/stage.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import * as tar from 'tar';
import { SafeInstallError } from '../errors/index.js';
import { VerdictCache, type ScriptFacts } from '../cache/index.js';
import { landOutputs } from '../install/outputs.js';
import { ownScriptsOf, pnpmOwnScripts, pnpmProjectOrder, runOwnScripts } from '../install/own-scripts.js';
import { discardStage, testPause } from '../install/stage.js';
import { readNpmSettings } from '../install/npmrc.js';
import { findPnpm, type PnpmBinary } from '../pnpm/binary.js';
import { buildDecider, readBuildSettings } from '../pnpm/build-policy.js';
import { installableHere, readPnpmLock, withoutPeers, type LockedPnpmPackage } from '../pnpm/lockfile.js';
import { sandboxLayout } from '../pnpm/layout.js';
import { runPnpm } from '../pnpm/run.js';
import { hasBindingGyp, installScripts } from '../resolve/install-scripts.js';
import { effectiveRegistry } from '../resolve/options.js';
import { scriptOrder } from '../resolve/script-order.js';
import type { PackageInfo } from '../session/types.js';
import type { AppliedInstall, PreparedInstall } from './install.js';
import type { ProgressListener } from './progress.js';
import { assertBuildsBack, cachedBuilds, rememberAllowed, sandboxBuilds, type HostInstallOptions } from './builds.js';
import { prepareStaged, type StagedWork } from './staged.js';
import { commitWithOwnScripts, layOutProject, type ProjectInSandbox } from './project-scripts.js';

/** Lifecycle events pnpm runs for each of the workspace's own projects after installing, in its order. */
const PROJECT_EVENTS = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare'] as const;

/** What pnpm reads to resolve and install, copied into the stage but never moved back. */
const CONTEXT_FILES = ['.npmrc', '.pnpmfile.cjs', '.pnpmfile.mjs', 'patches'];

export interface PnpmInstallOptions extends HostInstallOptions {
  /** Where the user ran it: the workspace root or one of its projects. */
  cwd: string;
  /** `add <specs>` or `install` (`--frozen-lockfile` installs the lockfile exactly). */
  command: 'add' | 'install';
  specs: string[];
  /** pnpm's own flags for the resolve (`-D`, `-E`, `--prod`, `--frozen-lockfile` ...), passed through. */
  pnpmArgs: string[];
  pnpm?: PnpmBinary;
}

export interface SkippedBuild {
  name: string;
  version: string;
  /** Why pnpm would not build it (its allowBuilds/onlyBuiltDependencies settings). */
  reason: string;
}

export interface PreparedPnpmInstall extends PreparedInstall {
  /** Packages with install-time code that pnpm's settings do not let build: not run anywhere. */
  skipped: SkippedBuild[];
  pnpmVersion: string;
}

export async function preparePnpmInstall(opts: PnpmInstallOptions): Promise<PreparedPnpmInstall> {
  const progress = opts.onProgress ?? (() => undefined);
  const cwd = path.resolve(opts.cwd);
  if (!fs.existsSync(path.join(cwd, 'package.json'))) {
    throw new SafeInstallError('E_USAGE', `no package.json in ${cwd}`, 'run safe-install in your project folder, or create one with `pnpm init`');
  }
  const pnpm = opts.pnpm ?? (await findPnpm());
  const root = workspaceRoot(cwd);
  const projects = await workspaceProjects(pnpm, root);
  if (!projects.includes(path.relative(root, cwd) || '.')) {
    throw new SafeInstallError('E_USAGE', `${cwd} is not a project of the pnpm workspace at ${root}`, 'add it to pnpm-workspace.yaml, or run safe-install in a workspace project');
  }
  const manifests = projects.map((p) => path.join(p, 'package.json'));
  const contents = {
    withNodeModules: true,
    files: [...new Set(['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', ...manifests])].map((f) => path.normalize(f)),
    moduleDirs: projects.map((p) => path.normalize(path.join(p, 'node_modules'))),
    modules: 'link' as const,
    context: CONTEXT_FILES,
  };
  const layout = { subdir: path.relative(root, cwd), stagedPaths: [...contents.files, ...contents.moduleDirs], projects };
  return prepareStaged(root, contents, progress, (work) => prepareInStage(opts, pnpm, work, layout, progress));
}

/**
 * @param layout.subdir where the user ran it, relative to the workspace root.
 * @param layout.stagedPaths what the stage holds of the workspace (see prepareInstall's).
 * @param layout.projects the workspace's projects, relative to its root (`.` for the root).
 */
async function prepareInStage(
  opts: PnpmInstallOptions,
  pnpm: PnpmBinary,
  { stage, workDir, releaseStage }: StagedWork,
  { subdir, stagedPaths, projects }: { subdir: string; stagedPaths: string[]; projects: string[] },
  progress: ProgressListener,
): Promise<PreparedPnpmInstall> {
  const settings = readNpmSettings(stage.dir);
  const registry = effectiveRegistry(opts.registry ?? (settings.options.registry as string | undefined));
  const registryArgs = opts.registry ? [`--registry=${opts.registry}`] : [];
  const hint = 'nothing was changed; fix what pnpm reports and retry';

  // 1. pnpm itself resolves and installs in the stage, scripts disabled: the lockfile,
  // package.json and node_modules exactly as it would leave them, minus any build. Its store
  // checks every tarball against the lockfile's integrity, and these are the very files it
  // would build: scripts are read from them and the sandbox gets them packed (no second download).
  progress({ stage: 'resolve', done: 0, total: 1 });
  await runPnpm(pnpm, [opts.command, ...opts.specs, ...opts.pnpmArgs, ...registryArgs], {
    cwd: path.join(stage.dir, subdir),
    what: `pnpm ${opts.command} (scripts disabled, in a staging copy)`,
    hint,
  });
  const lock = readPnpmLock(path.join(stage.dir, 'pnpm-lock.yaml'));
  if (!lock) throw new SafeInstallError('E_INTERNAL', 'pnpm wrote no pnpm-lock.yaml', 'this is a bug in safe-install; please report it with your pnpm version');
  const current = readPnpmLock(path.join(stage.projectDir, 'node_modules', '.pnpm', 'lock.yaml'));
  progress({ stage: 'resolve', done: 1, total: 1 });
  const modules = readModulesYaml(stage.dir);
  if (modules.nodeLinker && modules.nodeLinker !== 'isolated') {
    throw new SafeInstallError('E_USAGE', `node-linker=${modules.nodeLinker} is not supported by safe-install pnpm yet`, 'nothing was changed; use the default node-linker (isolated)');
  }
  const virtualStore = path.join(stage.dir, 'node_modules', modules.virtualStoreDir ?? '.pnpm');

  // 3. What is new: packages pnpm installed here that were not installed before with the same tarball.
  // Where pnpm put each package (one folder per peer-dependency variant), looked up once.
  const folders = new Map<string, string[]>();
  const foldersOf = (p: LockedPnpmPackage): string[] => {
    let dirs = folders.get(p.id);
    if (!dirs) folders.set(p.id, (dirs = storeFolders(virtualStore, p)));
    return dirs;
  };
  // Optional packages pnpm skipped (failed constraints) are not installed: nothing runs.
  const changed = [...lock.packages.values()].filter((p) => installableHere(p) && !sameTarball(current?.packages.get(p.id), p) && foldersOf(p).length > 0);
  for (const p of changed) {
    if (!p.integrity && !p.resolution.directory) {
      throw new SafeInstallError('E_LOCKFILE', `${p.id} has no integrity in pnpm-lock.yaml (${describeResolution(p)})`, 'safe-install installs only what it can verify; git and URL dependencies without integrity are not supported yet');
    }
  }
  const facts = new Map<string, ScriptFacts>();
  for (const p of changed) {
    const known = opts.cache && VerdictCache.usable(p.integrity) ? opts.cache.getFacts(p.integrity) : null;
    if (known) {
      facts.set(p.id, known);
      continue;
    }
    const dir = foldersOf(p)[0]!;
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const declared = installScripts(manifest, hasBindingGyp(dir));
    facts.set(p.id, declared);
    if (opts.cache && VerdictCache.usable(p.integrity)) opts.cache.putFacts(p.integrity, declared);
  }
  const tarballDir = path.join(workDir, 'tarballs');
  fs.mkdirSync(tarballDir, { recursive: true });
  const packed = new Map<string, string>();
  const packIds = async (ids: string[]): Promise<void> => {
    const todo = ids.filter((id) => !packed.has(id));
    let done = 0;
    for (const id of todo) {
      const dir = foldersOf(lock.packages.get(id)!)[0];
      if (!dir) throw new SafeInstallError('E_INTERNAL', `pnpm did not install ${id} where safe-install expected it`, 'nothing was changed; please report this with your pnpm version');
      const file = path.join(tarballDir, `${packed.size}-${id.replace(/[^A-Za-z0-9._-]+/g, '-')}.tar`);
      await packFolder(dir, file);
      packed.set(id, file);
      progress({ stage: 'fetch', done: ++done, total: todo.length, name: id });
    }
  };

  // 4. pnpm's own build settings: what it would not build is not run here either.
  const decide = buildDecider(readBuildSettings(stage.dir), pnpm.major);
  const scripted = changed.filter((p) => Object.keys(facts.get(p.id)?.scripts ?? {}).length > 0);
  const skipped: SkippedBuild[] = [];
  const toBuild: LockedPnpmPackage[] = [];
  for (const p of scripted) {
    const d = decide(p.name, p.version);
    if (d.build) toBuild.push(p);
    else skipped.push({ name: p.name, version: p.version, reason: d.why });
  }

  // 5. The verdict cache; a cached package some sandboxed build depends on runs again.
  const installsHere = (depPath: string): boolean => {
    const pkg = lock.packages.get(lock.snapshots.get(depPath)?.id ?? '');
    return pkg !== undefined && installableHere(pkg);
  };
  // A package to build is laid out once, as its first instance in the lockfile.
  const firstSnapshot = new Map<string, string>();
  for (const snapshot of lock.snapshots.values()) if (!firstSnapshot.has(snapshot.id)) firstSnapshot.set(snapshot.id, snapshot.depPath);
  const snapshotOf = (id: string): string => firstSnapshot.get(id) ?? id;
  const layoutOf = (builds: LockedPnpmPackage[]) => sandboxLayout(lock, builds.map((p) => snapshotOf(p.id)), installsHere);
  const { image, hits, toSandbox } = await cachedBuilds(
    toBuild,
    (builds) => new Set(layoutOf(builds).map((pl) => lock.packages.get(lock.snapshots.get(pl.depPath)?.id ?? '')!)),
    { cache: opts.cache, policyDigest: opts.policyDigest, baseImage: opts.baseImage, onProgress: progress },
  );

  // Where a build's outputs land: every folder of the package (one per peer-dependency variant).
  const landed = new Set<string>();
  const land = async (p: LockedPnpmPackage, tar: Buffer, removed: string[]): Promise<void> => {
    const dirs = foldersOf(p);
    if (dirs.length === 0) throw new SafeInstallError('E_INTERNAL', `pnpm did not install ${p.id} where safe-install expected it`, 'nothing was changed; please report this with your pnpm version');
    for (const dir of dirs) await landOutputs(dir, tar, removed, p.id);
    landed.add(p.id);
  };

  // 6. One sandbox session for every build, and (--sandbox-root) the workspace root's own scripts.
  const rootPackageJson = JSON.parse(fs.readFileSync(path.join(stage.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  // pnpm install runs every project's own scripts (pnpm's events: no prepublish, and no implicit
  // node-gyp build for a project), project by project, dependencies first.
  const ownScripts =
    opts.command === 'install'
      ? pnpmProjectOrder(projects.map((p) => ({ dir: p === '.' ? '' : p.split(path.sep).join('/'), manifest: JSON.parse(fs.readFileSync(path.join(stage.dir, p, 'package.json'), 'utf8')) as Record<string, unknown> }))).flatMap((p) =>
          ownScriptsOf(p.dir, p.manifest, PROJECT_EVENTS, false),
        )
      : [];
  const projectInSandbox = opts.sandboxRoot === true && ownScripts.length > 0;
  const runs = new Set(toSandbox.map((p) => p.id));
  const locationOf = new Map<string, string>();
  const idAt = (depPath: string): string => lock.snapshots.get(depPath)?.id ?? depPath;
  const infoOf = (p: LockedPnpmPackage, location: string, build: boolean): PackageInfo => ({
    name: p.name,
    version: p.version,
    integrity: p.integrity ?? '',
    resolved: p.resolution.tarball ?? p.resolution.directory ?? `${registry.replace(/\/?$/, '/')}${p.name}`,
    location,
    ...(build ? facts.get(p.id)! : { scripts: {}, implicitNodeGyp: false }),
    dependencies: [],
  });
  let project: ProjectInSandbox | null = null;
  let packages: PackageInfo[] = [];
  if (projectInSandbox) {
    // The root's scripts run on pnpm's own layout of the whole tree, cached builds landed; the
    // builds still to run go first, each in its package's first folder, in the order the
    // npm-style layout gives them (dependencies first).
    for (const [p, hit] of hits) await land(p, hit.outputs, hit.verdict.removed);
    project = await layOutProject({ stage, workDir, fromStage: stagedPaths, manifest: rootPackageJson, scripts: ownScripts, onProgress: progress });
    // The npm-style layout's order (dependencies first) is the builds' order here too.
    const ordered = scriptOrder(layoutOf(toSandbox).map((pl) => ({ ...infoOf(lock.packages.get(idAt(pl.depPath))!, pl.location, false), dependencies: pl.dependencies })));
    const buildOrder = [...new Set(ordered.map((info) => `${info.name}@${info.version}`))];
    const rank = (p: LockedPnpmPackage): number => {
      const i = buildOrder.indexOf(`${p.name}@${p.version}`);
      return i === -1 ? buildOrder.length : i;
    };
    const installed = [...lock.packages.values()].filter((p) => installableHere(p)).sort((a, b) => rank(a) - rank(b));
    const relative = (dir: string): string => path.relative(stage.dir, dir).split(path.sep).join('/');
    packages = [
      project.info,
      ...installed.flatMap((p) =>
        foldersOf(p).map((dir, i) => {
          const build = runs.has(p.id) && i === 0;
          if (build) locationOf.set(p.id, relative(dir));
          return infoOf(p, relative(dir), build);
        }),
      ),
    ];
  } else if (toSandbox.length > 0) {
    const placed = layoutOf(toSandbox);
    await packIds([...new Set(placed.map((pl) => idAt(pl.depPath)))]);
    packages = scriptOrder(
      placed.map((pl): PackageInfo => {
        const id = idAt(pl.depPath);
        const build = runs.has(id) && !locationOf.has(id);
        if (build) locationOf.set(id, pl.location);
        return { ...infoOf(lock.packages.get(id)!, pl.location, build), dependencies: pl.dependencies, tarball: packed.get(id)! };
      }),
    );
  }
  const builds = await sandboxBuilds(packages, rootPackageJson, { baseImage: opts.baseImage, limits: opts.limits, policy: opts.policy, image, onProgress: progress });
  const { session, containerStarted } = builds;
  const verdict = session.assessment.verdict;
  progress({ stage: 'verdict', verdict });
  const label = (p: LockedPnpmPackage) => ({ name: p.name, version: p.version, location: locationOf.get(p.id) ?? `node_modules/.pnpm/${p.id}` });

  const discard = async (): Promise<void> => {
    discardStage(stage);
  };

  const apply = async (applyOpts: { rootScriptsStdio?: 'inherit' | 'stderr' } = {}): Promise<AppliedInstall> => {
    const built = toSandbox.map((p) => ({ id: p.id, location: locationOf.get(p.id) ?? '' }));
    if (project) built.push({ id: 'the workspace root', location: '' });
    assertBuildsBack(builds, built, 'pnpm');
    progress({ stage: 'reify', message: 'landing build outputs' });
    await testPause('reify');
    for (const p of toSandbox) {
      const out = builds.outputs.get(locationOf.get(p.id)!)!;
      await land(p, out.tar, out.removed);
    }
    // With the root in the sandbox, the cached builds are in the stage already.
    if (!project) for (const [p, hit] of hits) await land(p, hit.outputs, hit.verdict.removed);
    // Built, so not pending: `pnpm rebuild --pending` must not run them again on the host.
    if (landed.size > 0) writePendingBuilds(stage.dir, (modules.pendingBuilds ?? []).filter((d) => !landed.has(withoutPeers(d))));
    rememberAllowed(opts.cache, builds, { policyDigest: opts.policyDigest, image }, toSandbox.map((p) => ({ name: p.name, version: p.version, integrity: p.integrity, location: locationOf.get(p.id)! })));
    progress({ stage: 'reify', message: 'moving the install into the project' });
    releaseStage();
    // (With --sandbox-root, none are left to run on the host.)
    const steps = ownScripts.map(({ dir, event }) => ({ dir, event }));
    return commitWithOwnScripts(stage, project, builds, () => runOwnScripts(stage.projectDir, steps, pnpmOwnScripts(pnpm.file), applyOpts.rootScriptsStdio ?? 'inherit'));
  };

  return {
    verdict,
    session,
    changed: changed.map(label),
    sandboxed: toSandbox.map(label),
    cached: [...hits].map(([p, hit]) => ({ ...label(p), findings: hit.verdict.findings })),
    containerStarted,
    failures: builds.failures,
    skipped,
    pnpmVersion: pnpm.version,
    apply,
    discard,
  };
}

/** The nearest folder up from cwd with a pnpm-workspace.yaml, else cwd itself. */
function workspaceRoot(cwd: string): string {
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (path.dirname(dir) === dir) return cwd;
  }
}

/** The workspace's projects, relative to its root (`.` first), as pnpm lists them. */
async function workspaceProjects(pnpm: PnpmBinary, root: string): Promise<string[]> {
  if (!fs.existsSync(path.join(root, 'pnpm-workspace.yaml'))) return ['.'];
  const out = await runPnpm(pnpm, ['ls', '--recursive', '--depth=-1', '--json'], { cwd: root, what: 'pnpm ls (listing workspace projects)', query: true, hint: 'fix pnpm-workspace.yaml; nothing was changed' });
  let listed: { path?: string }[];
  try {
    listed = JSON.parse(out) as { path?: string }[];
  } catch {
    throw new SafeInstallError('E_INTERNAL', 'pnpm ls printed no JSON', 'this is a bug in safe-install; please report it with your pnpm version');
  }
  const rel = listed.flatMap((p) => (typeof p.path === 'string' ? [path.relative(root, p.path) || '.'] : []));
  return ['.', ...rel.filter((r) => r !== '.' && !r.startsWith('..')).sort()];
}

function sameTarball(before: LockedPnpmPackage | undefined, now: LockedPnpmPackage): boolean {
  if (!before) return false;
  if (now.integrity) return before.integrity === now.integrity;
  return JSON.stringify(before.resolution) === JSON.stringify(now.resolution);
}

function describeResolution(p: LockedPnpmPackage): string {
  return p.resolution.tarball ?? p.resolution.repo ?? p.resolution.type ?? 'registry';
}

interface ModulesYaml {
  nodeLinker?: string;
  virtualStoreDir?: string;
  pendingBuilds?: string[];
}

/**
 * A package folder as an npm-style tarball (`package/...`) for the sandbox: pnpm's files for
 * it, without the folder's own node_modules (pnpm's bin links), symlinks left out as pacote would.
 * Not compressed: it only crosses a bind mount, and gzip cost seconds on platform binaries.
 */
async function packFolder(dir: string, file: string): Promise<void> {
  const entries = fs.readdirSync(dir).filter((e) => e !== 'node_modules');
  await tar.c({ file, cwd: dir, prefix: 'package', portable: true, filter: (_p, st) => !('isSymbolicLink' in st && st.isSymbolicLink()) }, entries);
}

function readModulesYaml(dir: string): ModulesYaml {
  const file = path.join(dir, 'node_modules', '.modules.yaml');
  if (!fs.existsSync(file)) return {};
  return (parseYaml(fs.readFileSync(file, 'utf8')) ?? {}) as ModulesYaml;
}

function writePendingBuilds(dir: string, pending: string[]): void {
  const file = path.join(dir, 'node_modules', '.modules.yaml');
  const doc = (parseYaml(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  doc.pendingBuilds = pending;
  // pnpm writes this file as JSON (valid YAML); a new file, so nothing shared is rewritten.
  const tmp = `${file}.si-tmp`;
  fs.writeFileSync(tmp, JSON.stringify(doc, null, 2));
  fs.renameSync(tmp, file);
}

/**
 * Every virtual store folder holding this exact package (one per peer-dependency variant):
 * `.pnpm/<depPath as a folder name>/node_modules/<name>`, told apart by its package.json.
 */
function storeFolders(virtualStore: string, p: LockedPnpmPackage): string[] {
  if (!fs.existsSync(virtualStore)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(virtualStore)) {
    if (entry === 'node_modules' || entry === 'lock.yaml') continue;
    const dir = path.join(virtualStore, entry, 'node_modules', p.name);
    let manifest: { name?: string; version?: string };
    try {
      if (fs.lstatSync(dir).isSymbolicLink()) continue;
      manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as typeof manifest;
    } catch {
      continue;
    }
    if (manifest.name === p.name && manifest.version === p.version) out.push(dir);
  }
  return out;
}
