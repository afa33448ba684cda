/**
 * The dependency tree npm would install for the requested specs, computed by npm's own
 * arborist in a synthetic, empty project. Nothing is extracted or run: only packuments (and
 * the tarballs of packages that bundle dependencies or ship a shrinkwrap) are read.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { SafeInstallError } from '../errors/index.js';
import { toResolveError, type ErrorContext } from './errors.js';
import type { NpmLibs } from './npm-libs.js';
import type { NpmOptions } from './options.js';

/** The parts of an arborist Node we rely on (its typings miss some, e.g. `inert`). */
export interface TreeNode {
  name: string;
  packageName: string;
  version: string;
  location: string;
  resolved: string | null;
  integrity: string | null;
  isLink: boolean;
  isRoot: boolean;
  /** Optional packages npm will skip (wrong platform, failed to load). */
  inert?: boolean;
  package: Record<string, unknown>;
  target: TreeNode;
  edgesOut: Map<string, { name: string; spec: string; to: TreeNode | null }>;
  inventory: Map<string, TreeNode>;
  getBundler(): TreeNode | null;
}

/** Root project name: a leading underscore is not a valid npm name, so no request can clash. */
const ROOT_NAME = '_safe-install-scan';

export async function buildIdealTree(
  add: string[],
  opts: { projectDir: string; npm: NpmOptions; libs: NpmLibs; ctx: ErrorContext },
): Promise<TreeNode> {
  await mkdir(opts.projectDir, { recursive: true });
  await writeFile(
    join(opts.projectDir, 'package.json'),
    JSON.stringify({ name: ROOT_NAME, version: '0.0.0', private: true }, null, 2) + '\n',
  );
  const arb = new opts.libs.Arborist({
    ...opts.npm,
    path: opts.projectDir,
    // Without it arborist leaves bundled dependencies and shrinkwrapped subtrees out of the
    // ideal tree (it fills them in while reifying): their scripts would go unseen.
    complete: true,
    packageLock: false,
    workspacesEnabled: false,
  } as ConstructorParameters<NpmLibs['Arborist']>[0]);
  try {
    return (await arb.buildIdealTree({ add })) as unknown as TreeNode;
  } catch (err) {
    throw toResolveError(err, opts.ctx);
  }
}

/** Every node npm would install (not the root, not inert optionals); links are refused. */
export function installableNodes(tree: TreeNode): TreeNode[] {
  const nodes: TreeNode[] = [];
  for (const node of tree.inventory.values()) {
    // An inert bundler is not installed, so neither is anything inside its tarball.
    if (node === tree || node.isRoot || node.inert || node.getBundler()?.inert) continue;
    if (node.isLink) {
      // A folder dependency npm would symlink, not install: we cannot pack it without
      // trusting its location, and its scripts would run outside any package folder we manage.
      throw new SafeInstallError(
        'E_RESOLVE',
        `${node.location} is a link to a local folder (${node.target.location}), which safe-install does not scan`,
        'Pack that folder with `npm pack --ignore-scripts` and scan the .tgz instead.',
      );
    }
    if (!node.location.startsWith('node_modules/')) continue; // a link's target, refused above
    nodes.push(node);
  }
  return nodes;
}

/**
 * The synthetic project's package.json, with what was asked for as npm would save it:
 * bare names and tags become `^<version>`, local tarballs their absolute `file:` path.
 */
export function rootPackageJson(tree: TreeNode): Record<string, unknown> {
  const dependencies: Record<string, string> = {};
  const asked = (tree.package.dependencies ?? {}) as Record<string, string>;
  for (const [name, spec] of Object.entries(asked)) {
    const to = tree.edgesOut.get(name)?.to ?? null;
    if (to?.resolved?.startsWith('file:')) dependencies[name] = to.resolved;
    else if (to && (spec === '' || spec === '*' || isTag(spec))) dependencies[name] = `^${to.version}`;
    else dependencies[name] = spec;
  }
  return { name: ROOT_NAME, version: '0.0.0', private: true, dependencies };
}

function isTag(spec: string): boolean {
  return semver.validRange(spec) === null && /^[A-Za-z][\w.-]*$/.test(spec) && !spec.includes(':');
}
