/**
 * The life of an install's stage, shared by every front-end that lands on the host (npm, pnpm):
 * the project is locked, an interrupted install is finished first, and the stage and a temp work
 * folder go away on error, on Ctrl-C (before the commit: the project was never touched; from the
 * commit on, the journal finishes the job, see recoverProject) and once the prepared install is
 * applied or discarded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStage, discardStage, lockProject, recoverProject, type Stage, type StageContents } from '../install/stage.js';
import { onCleanup } from '../sandbox/cleanup.js';
import type { PreparedInstall } from './install.js';
import type { ProgressListener } from './progress.js';

export interface StagedWork {
  stage: Stage;
  /** A private temp folder (tarballs, scratch), removed with the stage. */
  workDir: string;
  /** Unregisters the Ctrl-C cleanup: the commit (journaled) must not be undone by it. */
  releaseStage: () => void;
  /** Work still writing into the stage, waited for before it is removed after an error. */
  track: (work: Promise<unknown>) => void;
}

export async function prepareStaged<T extends PreparedInstall>(
  projectDir: string,
  contents: { withNodeModules: boolean } & StageContents,
  progress: ProgressListener,
  prepare: (work: StagedWork) => Promise<T>,
): Promise<T> {
  const unlock = lockProject(projectDir);
  let stage: Stage;
  try {
    if (recoverProject(projectDir) === 'rolled-forward') progress({ stage: 'sandbox', message: 'finished an interrupted install first' });
    stage = createStage(projectDir, contents);
  } catch (err) {
    unlock();
    throw err;
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'safe-install-install-'));
  const cleanupWork = () => fs.rmSync(workDir, { recursive: true, force: true });
  const inFlight: Promise<unknown>[] = [];
  const releaseStage = onCleanup(async () => {
    discardStage(stage);
    cleanupWork();
    unlock();
  });
  try {
    const prepared = await prepare({ stage, workDir, releaseStage, track: (work) => inFlight.push(work) });
    return {
      ...prepared,
      apply: async (applyOpts) => {
        try {
          return await prepared.apply(applyOpts);
        } finally {
          releaseStage();
          cleanupWork();
          unlock();
        }
      },
      discard: async () => {
        releaseStage();
        await prepared.discard();
        cleanupWork();
        unlock();
      },
    };
  } catch (err) {
    releaseStage();
    await Promise.allSettled(inFlight);
    discardStage(stage);
    cleanupWork();
    unlock();
    throw err;
  }
}
