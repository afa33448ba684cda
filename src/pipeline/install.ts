/**
 * `safe-install install`: npm's install, with every new install-time script run in the
 * sandbox first and none on the host.
 *
 * prepareInstall: stage a copy of the project's install state, let arborist build the ideal
 * tree there (same resolution and lockfile as npm), diff it against what is installed, read
 * the scripts of every new or changed package from its verified tarball, answer what the
 * verdict cache knows, and run the rest in ONE sandbox session. Nothing in the project changes.
 * apply: reify the stage with scripts disabled, land the sandbox's build outputs in each
 * package's own folder, then move the stage into the project (src/install/stage.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError } from '../errors/index.js';
import { VerdictCache, type ScriptFacts } from '../cache/index.js';
import { landOutputs } from '../install/outputs.js';
import { NPM_OWN_SCRIPTS, ownScriptsOf, runOwnScripts, workspaceScripts, type OwnScript } from '../install/own-scripts.js';
import { discardStage, STATE_FILES, testPause } from '../install/stage.js';
import { workspaceFolders } from '../install/workspaces.js';
import { readNpmSettings } from '../install/npmrc.js';
import { arboristOptions, changedNodes, newArborist, withDependencies, type ArboristRequest, type ProjectNode, type SaveType } from '../install/tree.js';
import { toResolveError } from '../resolve/errors.js';
import { fetchTarballs, type FetchedPackage } from '../resolve/fetch-tarballs.js';
import { tarballNames } from '../resolve/tarball-names.js';
import type { TreeNode } from '../resolve/ideal-tree.js';
import { hasBindingGyp, installScripts } from '../resolve/install-scripts.js';
import { loadNpmLibs } from '../resolve/npm-libs.js';
import { effectiveCache, effectiveRegistry, npmOptions } from '../resolve/options.js';
import { scriptOrder } from '../resolve/script-order.js';
import { PROJECT_LIFECYCLE_EVENTS } from '../session/types.js';
import type { Assessment, Finding, Verdict } from '../rules/types.js';
import type { PackageInfo, SessionChain } from '../session/types.js';
import type { ProgressListener } from './progress.js';
import { assertBuildsBack, cachedBuilds, rememberAllowed, sandboxBuilds, type HostInstallOptions } from './builds.js';
import { prepareStaged, type StagedWork } from './staged.js';
import { commitWithOwnScripts, layOutProject, type ProjectInSandbox } from './project-scripts.js';

export interface InstallOptions extends HostInstallOptions {
  projectDir: string;
  /** `ci` installs exactly the lockfile into an empty node_modules. */
  mode: 'install' | 'ci';
  specs: string[];
  saveType?: SaveType;
  saveExact?: boolean;
  omit?: string[];
  workspaces?: string[];
  /** npm's content cache (default: npm's own). */
  npmCache?: string;
}

export interface CachedPackage {
  name: string;
  version: string;
  location: string;
  findings: Finding[];
}

export interface PreparedInstall {
  verdict: Verdict;
  /** The sandbox session; null when nothing needed one. */
  session: { chain: SessionChain; assessment: Assessment } | null;
  /** New or changed packages (what the install adds or replaces). */
  changed: { name: string; version: string; location: string }[];
  /** Packages whose scripts ran in the sandbox this time. */
  sandboxed: { name: string; version: string; location: string }[];
  /** Packages with scripts whose allow verdict came from the cache. */
  cached: CachedPackage[];
  containerStarted: boolean;
  /** Scripts that failed (npm would fail the install too): apply refuses. */
  failures: string[];
  /** Reify, land build outputs, move into the project, run the project's own scripts. */
  apply(opts?: { rootScriptsStdio?: 'inherit' | 'stderr' }): Promise<AppliedInstall>;
  /** Remove the stage; the project stays as it was. */
  discard(): Promise<void>;
}

export interface AppliedInstall {
  /** The project's own lifecycle events that ran, in order. */
  rootScripts: string[];
  /** Its workspaces' scripts that ran (npm runs them on every install, before the project's), in order. */
  workspaceScripts?: OwnScript[];
  /** Where they ran: on the host through npm, or in the sandbox (`--sandbox-root`). */
  rootScriptsIn: 'host' | 'sandbox';
  /**
   * With `--sandbox-root`: project files never copied into the sandbox (possible secrets, VCS
   * metadata), and what the project's scripts changed at such paths, which did not land.
   */
  project?: { leftOut: string[]; notLanded: string[] };
}

export async function prepareInstall(opts: InstallOptions): Promise<PreparedInstall> {
  const progress = opts.onProgress ?? (() => undefined);
  const projectDir = path.resolve(opts.projectDir);
  if (!fs.existsSync(path.join(projectDir, 'package.json'))) {
    throw new SafeInstallError('E_USAGE', `no package.json in ${projectDir}`, 'run safe-install in your project folder, or create one with `npm init -y`');
  }
  if (opts.mode === 'ci' && !fs.existsSync(path.join(projectDir, 'package-lock.json')) && !fs.existsSync(path.join(projectDir, 'npm-shrinkwrap.json'))) {
    throw new SafeInstallError('E_USAGE', '`ci` needs a package-lock.json', 'run `safe-install install` first to create one');
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(projectDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  const workspaces = await workspaceFolders(projectDir, manifest);
  for (const wanted of opts.workspaces ?? []) {
    // npm's -w takes a workspace's name or its folder.
    if (!workspaces.some((w) => w.name === wanted || path.resolve(projectDir, w.dir) === path.resolve(projectDir, wanted))) {
      throw new SafeInstallError('E_USAGE', `no workspace "${wanted}" in ${projectDir}`, workspaces.length > 0 ? `the workspaces are: ${workspaces.map((w) => w.name).join(', ')}` : 'package.json has no `workspaces`; run without --workspace');
    }
  }
  // Workspace folders join the stage as their package.json and node_modules only: arborist
  // reads the manifests and links the folders (relative links, right once moved back).
  const contents = {
    withNodeModules: opts.mode !== 'ci',
    files: [...STATE_FILES, ...workspaces.map((w) => path.join(w.dir, 'package.json'))],
    moduleDirs: ['node_modules', ...workspaces.map((w) => path.join(w.dir, 'node_modules'))],
  };
  return prepareStaged(projectDir, contents, progress, (work) => prepareInStage(opts, work, [...contents.files, ...contents.moduleDirs], progress));
}

/**
 * @param stagedPaths what the stage holds of the project (relative paths): with `--sandbox-root`
 *   those come from the stage, the rest of the project from the project itself.
 */
async function prepareInStage(opts: InstallOptions, { stage, workDir, releaseStage, track }: StagedWork, stagedPaths: string[], progress: ProgressListener): Promise<PreparedInstall> {
  const settings = readNpmSettings(stage.projectDir);
  const registry = effectiveRegistry(opts.registry ?? (settings.options.registry as string | undefined));
  const npm = { ...npmOptions(registry, effectiveCache(opts.npmCache)), ...settings.scoped };
  const ctx = { registry };
  const libs = await loadNpmLibs();
  const req: ArboristRequest = {
    add: opts.specs,
    ...(opts.saveType ? { saveType: opts.saveType } : {}),
    ...(opts.saveExact ? { saveExact: true } : {}),
    omit: [...new Set([...(opts.omit ?? []), ...((settings.options.omit as string[] | undefined) ?? [])])],
    workspaces: opts.workspaces ?? [],
  };
  const arbOptions = arboristOptions(npm, stage.dir, req, settings.options);
  const arb = newArborist(libs, arbOptions);

  progress({ stage: 'resolve', done: 0, total: 1 });
  let ideal: ProjectNode;
  let actual: ProjectNode;
  try {
    actual = (await arb.loadActual()) as ProjectNode;
    ideal = (await arb.buildIdealTree(arbOptions)) as ProjectNode;
  } catch (err) {
    throw toResolveError(err, ctx);
  }
  if (opts.mode === 'ci') await assertLockInSync(libs, arbOptions, ideal);
  const changed = changedNodes(ideal, actual, req.omit);
  progress({ stage: 'resolve', done: 1, total: 1 });
  // Reify the stage (scripts disabled) while the sandbox works: it is npm's share of the
  // time, and the stage is thrown away unless the verdict lets it into the project.
  const reified = arb.reify(arbOptions).then(
    () => null,
    (err: unknown) => err,
  );
  track(reified);
  const settled = async (): Promise<void> => {
    await reified;
  };

  // Which changed packages have install-time code: from the tarball itself (a packument can
  // lie about scripts), or from the cache of what an identical tarball declared.
  const facts = new Map<TreeNode, ScriptFacts>();
  const fetched = new Map<TreeNode, FetchedPackage>();
  const tarballDir = path.join(workDir, 'tarballs');
  const names = tarballNames(workDir, tarballDir);
  fs.mkdirSync(tarballDir, { recursive: true });
  const fetchNodes = async (nodes: TreeNode[]): Promise<void> => {
    const todo = new Set(nodes.filter((n) => !fetched.has(n)));
    // A bundled package is cut from its bundler's tarball: fetch the bundler with it.
    for (const n of [...todo]) {
      const bundler = n.getBundler();
      if (bundler && !bundler.isRoot && !fetched.has(bundler)) todo.add(bundler);
    }
    if (todo.size === 0) return;
    const got = await fetchTarballs([...todo], {
      tarballDir,
      scratchFor: names.scratchFor,
      npm,
      libs,
      ctx,
      origins: new Map(),
      fileFor: names.fileFor,
      onFetched: (node, done, total) => progress({ stage: 'fetch', done, total, name: `${node.packageName}@${node.version}` }),
    });
    for (const [node, f] of got) fetched.set(node, f);
  };
  const unknown: TreeNode[] = [];
  for (const node of changed) {
    const known = opts.cache && VerdictCache.usable(node.integrity) ? opts.cache.getFacts(node.integrity) : null;
    if (known) facts.set(node, known);
    else unknown.push(node);
  }
  await fetchNodes(unknown);
  for (const node of unknown) {
    const f = fetched.get(node);
    if (!f) throw new SafeInstallError('E_INTERNAL', `no tarball was fetched for ${node.location}`, 'this is a bug in safe-install; please report it');
    const declared = installScripts(f.facts.manifest, f.facts.hasBindingGyp);
    facts.set(node, declared);
    if (opts.cache && VerdictCache.usable(node.integrity)) opts.cache.putFacts(node.integrity, declared);
  }
  const scripted = changed.filter((n) => Object.keys(facts.get(n)?.scripts ?? {}).length > 0);

  // The verdict cache, keyed on the sandbox image too: needs Docker only when scripts exist.
  const { image, hits, toSandbox } = await cachedBuilds(scripted, (nodes) => withDependencies(nodes) as Set<ProjectNode>, { cache: opts.cache, policyDigest: opts.policyDigest, baseImage: opts.baseImage, onProgress: progress });

  // npm runs its workspaces' scripts on every install, then the project's own for `npm install`
  // without package names and `npm ci`, unless the user's settings say ignore-scripts.
  // Workspace manifests from the ideal tree: arborist may be rewriting the stage's right now.
  const ignoreScripts = settings.options.ignoreScripts === true;
  const workspaceNodes = [...ideal.inventory.values()].filter((n) => (n as ProjectNode).isWorkspace && !n.isLink);
  const ownScripts = ignoreScripts
    ? []
    : [
        ...workspaceScripts(stage.projectDir, workspaceNodes.map((n) => ({ dir: n.location, manifest: n.package }))),
        ...(opts.specs.length === 0 ? ownScriptsOf('', ideal.package, PROJECT_LIFECYCLE_EVENTS, hasBindingGyp(stage.projectDir)) : []),
      ];
  const projectInSandbox = opts.sandboxRoot === true && ownScripts.length > 0;
  let project: ProjectInSandbox | null = null;
  let packages: PackageInfo[] = [];
  const landCached = async (): Promise<void> => {
    for (const [node, hit] of hits) {
      await landOutputs(path.join(stage.dir, node.location), hit.outputs, hit.verdict.removed, `${node.packageName}@${node.version}`);
    }
  };
  if (projectInSandbox) {
    // The project's scripts see the tree as it will be: reified, cached builds in place; the
    // dependencies still to build run on it first, as npm runs them before the project's own.
    const reifyError = await reified;
    if (reifyError) throw toResolveError(reifyError, ctx);
    await landCached();
    project = await layOutProject({ stage, workDir, fromStage: stagedPaths, manifest: ideal.package, scripts: ownScripts, onProgress: progress });
    packages = [project.info, ...installedPackages(ideal, req.omit, new Map(toSandbox.map((n) => [n as TreeNode, facts.get(n)!])))];
  } else if (toSandbox.length > 0) {
    const layout = [...withDependencies(toSandbox)];
    await fetchNodes(layout);
    const runs = new Set<TreeNode>(toSandbox);
    packages = scriptOrder(
      layout.map((node): PackageInfo => {
        const f = fetched.get(node)!;
        const declared = runs.has(node) ? facts.get(node)! : { scripts: {}, implicitNodeGyp: false };
        return {
          name: node.packageName,
          version: node.version,
          integrity: f.integrity,
          resolved: f.resolved,
          location: node.location,
          ...declared,
          dependencies: [...node.edgesOut.values()].flatMap((e) => (e.to && !e.to.isRoot ? [(e.to.isLink ? e.to.target : e.to).location] : [])),
          tarball: f.tarball,
        };
      }),
    );
  }
  // The ideal root's manifest (with what is being added), not the stage's file: arborist may
  // be rewriting that one right now.
  const builds = await sandboxBuilds(packages, structuredClone(ideal.package), { baseImage: opts.baseImage, limits: opts.limits, policy: opts.policy, image, onProgress: progress });
  const { session, outputs, containerStarted, failures } = builds;
  const verdict: Verdict = session.assessment.verdict;
  progress({ stage: 'verdict', verdict });
  const label = (n: TreeNode) => ({ name: n.packageName, version: n.version, location: n.location });

  const discard = async (): Promise<void> => {
    // Arborist may still be writing into the stage: let it finish, then remove it.
    await settled();
    discardStage(stage);
  };

  const apply = async (applyOpts: { rootScriptsStdio?: 'inherit' | 'stderr' } = {}): Promise<AppliedInstall> => {
    const built = toSandbox.map((node) => ({ id: `${node.packageName}@${node.version}`, location: node.location }));
    if (project) built.push({ id: 'the project', location: '' });
    assertBuildsBack(builds, built, 'npm');
    progress({ stage: 'reify', message: 'installing with scripts disabled' });
    const reifyError = await reified;
    if (reifyError) throw toResolveError(reifyError, ctx);
    await testPause('reify');
    for (const node of toSandbox) {
      const out = outputs.get(node.location)!;
      await landOutputs(path.join(stage.dir, node.location), out.tar, out.removed, `${node.packageName}@${node.version}`);
    }
    // With the project in the sandbox, the cached builds are in the stage already.
    if (!project) await landCached();
    rememberAllowed(opts.cache, builds, { policyDigest: opts.policyDigest, image }, toSandbox.map((node) => ({ name: node.packageName, version: node.version, integrity: node.integrity, location: node.location })));
    progress({ stage: 'reify', message: 'moving the install into the project' });
    releaseStage();
    // (With --sandbox-root, none are left to run on the host.) An implicit node-gyp build has no
    // script `npm run` could name: not run here (see README).
    const steps = ownScripts.filter((s) => !s.implicit).map(({ dir, event }) => ({ dir, event }));
    return commitWithOwnScripts(stage, project, builds, () => runOwnScripts(stage.projectDir, steps, NPM_OWN_SCRIPTS, applyOpts.rootScriptsStdio ?? 'inherit'));
  };

  return {
    verdict,
    session,
    changed: changed.map(label),
    sandboxed: [...(project ? [{ name: project.info.name, version: project.info.version, location: '' }] : []), ...toSandbox.map(label)],
    cached: [...hits].map(([n, h]) => ({ ...label(n), findings: h.verdict.findings })),
    containerStarted,
    failures,
    apply,
    discard,
  };
}

/**
 * `npm ci` refuses a lockfile that does not match package.json rather than fixing it: the tree
 * built from package.json must be exactly the lockfile's.
 */
async function assertLockInSync(libs: Awaited<ReturnType<typeof loadNpmLibs>>, arbOptions: Record<string, unknown>, ideal: ProjectNode): Promise<void> {
  const virtual = (await newArborist(libs, arbOptions).loadVirtual()) as ProjectNode;
  const describeTree = (tree: ProjectNode) =>
    [...tree.inventory.values()]
      .filter((n) => !n.isRoot)
      .map((n) => `${n.location}@${n.version}`)
      .sort();
  const a = describeTree(ideal);
  const b = describeTree(virtual);
  const differ = a.length !== b.length || a.some((x, i) => x !== b[i]);
  if (differ) {
    throw new SafeInstallError('E_USAGE', '`ci` can only install when package.json and package-lock.json are in sync', 'update the lockfile with `safe-install install`, then run `safe-install npm ci`');
  }
}

/**
 * Every package of the installed tree, in place in the project's tarball: the ones still to build
 * with their scripts, the rest as what they are (another package's folder, for the rules). The
 * workspaces are the project's own folders, not packages of it.
 */
function installedPackages(ideal: ProjectNode, omit: string[], scripted: Map<TreeNode, Pick<PackageInfo, 'scripts' | 'implicitNodeGyp'>>): PackageInfo[] {
  const omitted = new Set(omit);
  const nodes = [...ideal.inventory.values()].filter((n) => {
    const node = n as ProjectNode;
    return !node.isRoot && !node.isLink && !node.isWorkspace && !node.inert && !node.shouldOmit(omitted);
  });
  return scriptOrder(
    nodes.map((node): PackageInfo => ({
      name: node.packageName,
      version: node.version,
      integrity: node.integrity ?? '',
      resolved: node.resolved ?? '',
      location: node.location,
      ...(scripted.get(node) ?? { scripts: {}, implicitNodeGyp: false }),
      dependencies: [...node.edgesOut.values()].flatMap((e) => (e.to && !e.to.isRoot ? [(e.to.isLink ? e.to.target : e.to).location] : [])),
    })),
  );
}
