/**
 * Resolve: what `npm install <specs>` would install, fetched and verified on the host, with
 * the install-time scripts of every package read from its tarball. Runs no package code:
 * every npm library call has `ignoreScripts`, and folders are packed without `prepare`.
 *
 * Writes only inside `workDir` (project/, tarballs/, bundled/) and the npm cache.
 *
 * Bundled dependencies get a tarball of their own, cut from their bundler's verified tarball;
 * their `resolved` is the bundler's, their `integrity` that of the cut tarball.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { SafeInstallError, describe } from '../errors/index.js';
import type { PackageInfo } from '../session/types.js';
import { tarballNames } from './tarball-names.js';
import { fetchTarballs } from './fetch-tarballs.js';
import { buildIdealTree, installableNodes, rootPackageJson, type TreeNode } from './ideal-tree.js';
import { installScripts } from './install-scripts.js';
import { prepareSpecs } from './local-specs.js';
import { loadNpmLibs } from './npm-libs.js';
import { effectiveCache, effectiveRegistry, npmOptions } from './options.js';
import { scriptOrder } from './script-order.js';
import { addPreviousScripts } from './previous-scripts.js';

export { DEFAULT_REGISTRY } from './options.js';

export interface ResolveProgress {
  phase: 'resolve' | 'fetch';
  done: number;
  total: number;
  name?: string;
}

export interface ResolveOptions {
  /** Default https://registry.npmjs.org/, or `npm_config_registry` from the environment. */
  registry?: string;
  /** pacote/cacache folder. Default: npm's own (`~/.npm/_cacache`), so a warm npm cache is reused. */
  cache?: string;
  /** A temp folder this module may write into; the caller creates and removes it. */
  workDir: string;
  onProgress?: (ev: ResolveProgress) => void;
}

export interface ResolvedTree {
  /** Every package of the tree except the root, dependencies before their dependents. */
  /** Every package comes from its own verified tarball. */
  packages: (PackageInfo & { tarball: string })[];
  /** The synthetic root project's package.json (its dependencies = what was asked for). */
  rootPackageJson: Record<string, unknown>;
}

export async function resolveSpecs(specs: string[], opts: ResolveOptions): Promise<ResolvedTree> {
  if (specs.length === 0) {
    throw new SafeInstallError('E_USAGE', 'nothing to resolve: no package given', 'Name at least one package, .tgz or folder.');
  }
  const registry = effectiveRegistry(opts.registry);
  const npm = npmOptions(registry, effectiveCache(opts.cache));
  const ctx = { registry };
  const workDir = resolvePath(opts.workDir);
  const tarballDir = join(workDir, 'tarballs');
  const progress = opts.onProgress ?? (() => {});

  try {
    await mkdir(tarballDir, { recursive: true });
    const names = tarballNames(workDir, tarballDir);
    const libs = await loadNpmLibs();

    progress({ phase: 'resolve', done: 0, total: specs.length });
    const prepared = await prepareSpecs(specs, {
      tarballDir,
      libs,
      ctx,
      nextName: (hint) => names.unique(hint) + '.tgz',
    });
    const tree = await buildIdealTree(prepared.add, { projectDir: join(workDir, 'project'), npm, libs, ctx });
    const nodes = installableNodes(tree);
    progress({ phase: 'resolve', done: specs.length, total: specs.length });

    progress({ phase: 'fetch', done: 0, total: nodes.length });
    const fetched = await fetchTarballs(nodes, {
      tarballDir,
      scratchFor: names.scratchFor,
      npm,
      libs,
      ctx,
      origins: prepared.origins,
      fileFor: names.fileFor,
      onFetched: (node, done, total) => progress({ phase: 'fetch', done, total, name: `${node.packageName}@${node.version}` }),
    });

    const packages = nodes.map((node): PackageInfo & { tarball: string } => {
      const f = fetched.get(node);
      if (!f) throw new Error(`no tarball was fetched for ${node.location}`);
      return {
        name: node.packageName,
        version: node.version,
        integrity: f.integrity,
        resolved: f.resolved,
        location: node.location,
        ...installScripts(f.facts.manifest, f.facts.hasBindingGyp),
        dependencies: dependencyLocations(node),
        tarball: f.tarball,
      };
    });
    await addPreviousScripts(packages, libs, npm);
    return { packages: scriptOrder(packages), rootPackageJson: rootPackageJson(tree) };
  } catch (err) {
    if (err instanceof SafeInstallError) throw err;
    throw new SafeInstallError('E_INTERNAL', `resolving failed unexpectedly: ${describe(err)}`, 'This is a bug in safe-install; please report it with the command you ran.', {
      cause: err,
    });
  }
}

function dependencyLocations(node: TreeNode): string[] {
  const out: string[] = [];
  for (const edge of node.edgesOut.values()) {
    const to = edge.to?.isLink ? edge.to.target : edge.to;
    // Inert nodes are optional packages npm skips: nothing of them is installed to depend on.
    if (to && !to.isRoot && !to.inert && !out.includes(to.location)) out.push(to.location);
  }
  return out;
}

