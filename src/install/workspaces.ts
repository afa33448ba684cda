/**
 * npm workspaces: the folders a project's `workspaces` globs name, found by npm's own
 * @npmcli/map-workspaces, relative to the project. The stage needs each one's package.json
 * (arborist reads them to build the tree) and moves each one's node_modules.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { SafeInstallError, describe } from '../errors/index.js';

type MapWorkspaces = (opts: { cwd: string; pkg: Record<string, unknown> }) => Promise<Map<string, string>>;

const mapWorkspaces = createRequire(import.meta.url)('@npmcli/map-workspaces') as MapWorkspaces;

export async function workspaceFolders(projectDir: string, manifest: Record<string, unknown>): Promise<{ name: string; dir: string }[]> {
  if (manifest.workspaces === undefined) return [];
  let found: Map<string, string>;
  try {
    found = await mapWorkspaces({ cwd: projectDir, pkg: manifest });
  } catch (err) {
    throw new SafeInstallError('E_USAGE', `the workspaces in package.json cannot be read: ${describe(err)}`, 'fix the `workspaces` field (npm would refuse it too)');
  }
  return [...found].map(([name, dir]) => ({ name, dir: path.relative(projectDir, dir) })).filter((w) => w.dir !== '' && !w.dir.startsWith('..'));
}
