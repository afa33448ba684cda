/**
 * `--sandbox-root`, the part every host install shares (npm, pnpm): the project itself as a
 * package of the session (location `''`), laid out from one tarball of its files and the
 * stage's installed tree, with the project's own lifecycle events as its scripts.
 */
import path from 'node:path';
import { packProject, type ProjectCopy } from '../install/project-copy.js';
import { ranSummary, type OwnScript } from '../install/own-scripts.js';
import { commitStage, type Stage } from '../install/stage.js';
import type { PackageInfo, ProjectScript, SessionChain } from '../session/types.js';
import type { BuildsRun } from './builds.js';
import type { AppliedInstall } from './install.js';
import type { ProgressListener } from './progress.js';

/** The project's own files a session lays out, node_modules aside (the sandbox's home is a 4 GiB tmpfs in all). */
export const PROJECT_COPY_MAX_BYTES = 1024 ** 3;

export interface ProjectInSandbox {
  copy: ProjectCopy;
  /** The project as the first package of the session: its tarball holds the whole tree. */
  info: PackageInfo;
}

/**
 * @param fromStage what the stage holds of the project (relative paths): its install state and
 *   node_modules folders, as they will be moved in; the rest comes from the project itself.
 * @param manifest the project's package.json as the install leaves it.
 */
export async function layOutProject(opts: {
  stage: Stage;
  workDir: string;
  fromStage: string[];
  manifest: Record<string, unknown>;
  /** The project's own scripts and its workspaces', in the order they run. */
  scripts: ProjectScript[];
  onProgress: ProgressListener;
}): Promise<ProjectInSandbox> {
  opts.onProgress({ stage: 'sandbox', message: 'packing the project and its installed tree for its own scripts' });
  const copy = await packProject({ projectDir: opts.stage.projectDir, stageDir: opts.stage.dir, fromStage: opts.fromStage, dest: path.join(opts.workDir, 'project.tar'), maxBytes: PROJECT_COPY_MAX_BYTES });
  const { name, version } = opts.manifest;
  return {
    copy,
    info: {
      name: typeof name === 'string' && name !== '' ? name : path.basename(opts.stage.projectDir),
      version: typeof version === 'string' ? version : '',
      integrity: copy.integrity,
      resolved: `file:${opts.stage.projectDir}`,
      location: '',
      // What the report shows as the project's scripts: its own events.
      scripts: Object.fromEntries(opts.scripts.filter((s) => s.dir === '').map((s) => [s.event, s.command])),
      implicitNodeGyp: opts.scripts.some((s) => s.dir === '' && s.implicit),
      projectScripts: opts.scripts,
      dependencies: [],
      tarball: copy.file,
    },
  };
}

/**
 * The end of every host install: the commit, then the project's own scripts. With the project
 * in the sandbox they already ran there, and what they made lands with the commit; otherwise
 * `runOnHost` runs them now, through the package manager.
 */
export async function commitWithOwnScripts(stage: Stage, project: ProjectInSandbox | null, builds: BuildsRun, runOnHost: () => Promise<OwnScript[]>): Promise<AppliedInstall> {
  if (project) {
    // Never at a path that held a decoy in the sandbox (see commitStage).
    const notLanded = await commitStage(stage, builds.outputs.get(''));
    return { ...projectScriptsRun(builds.session.chain), rootScriptsIn: 'sandbox', project: { leftOut: project.copy.leftOut, notLanded } };
  }
  await commitStage(stage);
  return { ...ranSummary(await runOnHost()), rootScriptsIn: 'host' };
}

/** What ran in the session of the project's own: its events, and its workspaces' (by folder), in order. */
function projectScriptsRun(chain: SessionChain): { rootScripts: string[]; workspaceScripts: OwnScript[] } {
  const scripts = chain.packages.find((p) => p.info.location === '')?.session.scripts ?? [];
  return ranSummary(scripts.map((s) => ({ dir: path.posix.relative(chain.projectDir, s.cwd), event: s.event })));
}
