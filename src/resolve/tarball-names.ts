/**
 * Where fetched tarballs and unpacked bundles go: one readable, unique name per package in a
 * run, safe as a path segment. Shared by scan's resolve and install's fetch.
 */
import path from 'node:path';
import type { TreeNode } from './ideal-tree.js';

export interface TarballNames {
  /** A fresh name (no extension) from a hint; repeats get `-2`, `-3`… */
  unique: (base: string) => string;
  /** A fresh folder to unpack a bundler's bundled dependencies into. */
  scratchFor: (bundler: TreeNode) => string;
  /** A fresh .tgz path in tarballDir for a package. */
  fileFor: (node: TreeNode, suffix?: string) => string;
}

export function tarballNames(workDir: string, tarballDir: string): TarballNames {
  const used = new Set<string>();
  const unique = (base: string): string => {
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return name;
  };
  return {
    unique,
    scratchFor: (bundler) => path.join(workDir, 'bundled', unique(artifactName(bundler))),
    fileFor: (node, suffix = '') => path.join(tarballDir, unique(artifactName(node) + suffix) + '.tgz'),
  };
}

/** `@scope/name@1.0.0` → `scope-name-1.0.0`: readable, and safe as one path segment. */
function artifactName(node: TreeNode): string {
  return `${node.packageName}-${node.version}`.replace(/^@/, '').replace(/[^A-Za-z0-9._-]+/g, '-');
}
