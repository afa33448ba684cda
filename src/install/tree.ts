/**
 * The project side of an install: npm's own arborist in the staging copy, asked exactly what
 * `npm install` asks it, and the diff of what it would change.
 */
import type { NpmLibs } from '../resolve/npm-libs.js';
import type { NpmOptions } from '../resolve/options.js';
import type { TreeNode } from '../resolve/ideal-tree.js';

export type SaveType = 'prod' | 'dev' | 'optional' | 'peer';

export interface ArboristRequest {
  /** Specs to add (`npm install <specs>`); empty for a plain `npm install` / `npm ci`. */
  add: string[];
  saveType?: SaveType;
  saveExact?: boolean;
  omit: string[];
  workspaces: string[];
}

/** The arborist tree node, with what the diff needs beyond resolve's view of it. */
export interface ProjectNode extends TreeNode {
  shouldOmit(omit: Set<string>): boolean;
  hasInstallScript?: boolean;
  optional: boolean;
  /** A workspace's folder (the link to it is `isLink`). */
  isWorkspace?: boolean;
}

export interface ArboristLike {
  loadActual(): Promise<unknown>;
  loadVirtual(): Promise<unknown>;
  buildIdealTree(opts: Record<string, unknown>): Promise<unknown>;
  reify(opts: Record<string, unknown>): Promise<unknown>;
}

/** The options npm's install command hands arborist (npm's flatOptions, the parts that matter). */
export function arboristOptions(npm: NpmOptions, dir: string, req: ArboristRequest, settings: Record<string, unknown> = {}): Record<string, unknown> {
  // npm's own order: its defaults, the user's .npmrc settings, then the command line.
  const saveExact = req.saveExact === true || settings.saveExact === true;
  return {
    savePrefix: '^',
    ...settings,
    ...npm,
    path: dir,
    save: true,
    // npm turns --save-exact into an empty prefix: arborist itself only reads savePrefix.
    ...(saveExact ? { savePrefix: '' } : {}),
    saveExact,
    ...(req.saveType ? { saveType: req.saveType } : {}),
    omit: [...new Set([...((settings.omit as string[] | undefined) ?? []), ...req.omit])],
    workspacesEnabled: true,
    ...(req.workspaces.length > 0 ? { workspaces: req.workspaces } : {}),
    packageLock: settings.packageLock !== false,
    // Bundled dependencies and shrinkwrapped subtrees in the ideal tree, so their scripts are seen.
    complete: true,
    add: req.add,
  };
}

export function newArborist(libs: NpmLibs, options: Record<string, unknown>): ArboristLike {
  return new libs.Arborist(options as ConstructorParameters<NpmLibs['Arborist']>[0]) as unknown as ArboristLike;
}

/**
 * Nodes the install adds or replaces: in the ideal tree, not omitted, not links, and absent
 * from the actual tree at that location or there with other bytes.
 */
export function changedNodes(ideal: ProjectNode, actual: ProjectNode, omit: string[]): ProjectNode[] {
  const omitSet = new Set(omit);
  const out: ProjectNode[] = [];
  for (const node of ideal.inventory.values() as IterableIterator<ProjectNode>) {
    if (node === ideal || node.isRoot || node.isLink || node.inert || node.getBundler()?.inert) continue;
    if (!node.location.startsWith('node_modules/') && !node.location.includes('/node_modules/')) continue; // workspace folders are the user's code
    if (node.shouldOmit(omitSet)) continue;
    const had = actual.inventory.get(node.location) as ProjectNode | undefined;
    if (had && !had.isLink && had.version === node.version && sameArtifact(had, node)) continue;
    out.push(node);
  }
  return out;
}

function sameArtifact(a: ProjectNode, b: ProjectNode): boolean {
  if (a.integrity && b.integrity) return a.integrity === b.integrity;
  return a.resolved === b.resolved && a.resolved !== null;
}

/** Locations a node depends on, as installed (links followed, inert optionals skipped). */
export function dependencyNodes(node: TreeNode): TreeNode[] {
  const out: TreeNode[] = [];
  for (const edge of node.edgesOut.values()) {
    const to = edge.to?.isLink ? edge.to.target : edge.to;
    if (to && !to.isRoot && !to.inert && !out.includes(to)) out.push(to);
  }
  return out;
}

/** The nodes plus everything they depend on, transitively: what their scripts may require. */
export function withDependencies(nodes: Iterable<TreeNode>): Set<TreeNode> {
  const seen = new Set<TreeNode>();
  const todo = [...nodes];
  while (todo.length > 0) {
    const node = todo.pop()!;
    if (seen.has(node)) continue;
    // Only packages in node_modules are laid out in the sandbox (not workspace folders).
    if (!node.location.includes('node_modules/')) continue;
    seen.add(node);
    todo.push(...dependencyNodes(node));
  }
  return seen;
}
