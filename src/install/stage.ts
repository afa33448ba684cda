/**
 * Atomic installs. Everything is prepared in a staging copy of the project's install state
 * (package.json, lockfiles, node_modules) next to the project, in
 * `<parent>/.<project>.safe-install-stage-*`: at the same depth, so that what npm writes
 * relative to the project (`file:../dep` in package.json and the lockfile, the links in
 * node_modules) is right once moved in. Where the parent is not writable the stage goes to
 * `<project>/.safe-install/` (relative `file:` dependencies then come out wrong, see README).
 * The project itself is only touched by a few renames at the very end, recorded first in a
 * journal under `<project>/.safe-install/`.
 *
 * - Killed before the journal exists (resolving, sandboxing, reifying into the stage): the
 *   project was never touched; the next run removes the leftover stage.
 * - Killed during the renames: the journal is there and the stage is complete, so the next
 *   run finishes the renames (rolls forward) before doing anything else.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError } from '../errors/index.js';
import { processAlive } from '../process-alive.js';
import { checkLanding, landOutputsSync } from './outputs.js';
import { neverCopied } from './project-copy.js';

export const WORK_DIR = '.safe-install';
const JOURNAL = 'journal.json';
/** What an install may change in a project; everything else stays where it is. */
export const STATE_FILES = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'] as const;

export interface Stage {
  projectDir: string;
  /** The staging project: arborist runs here. */
  dir: string;
  /** State files and node_modules folders (relative) the commit moves into the project. */
  files: string[];
  moduleDirs: string[];
}

interface Journal {
  /** Absolute path of the stage (checked on recovery to be one of ours). */
  stage: string;
  backup: string;
  /** State files, relative to the project. */
  files: string[];
  /** node_modules folders, relative to the project (absent in journals of npm installs: the root one). */
  dirs?: string[];
  /** What the project's own scripts made in the sandbox (`--sandbox-root`): a tar in the stage, landed last. */
  projectOutputs?: { tar: string; removed: string[] };
}

/** The project's outputs tar, in the stage (never one of the names the commit moves). */
const PROJECT_OUTPUTS_TAR = '.safe-install-project-outputs.tar';

/** What the project's own scripts made in the sandbox, to land with the commit. */
export interface ProjectOutputs {
  tar: Buffer;
  removed: string[];
}

export interface StageContents {
  /** State files relative to the project (default: npm's STATE_FILES). */
  files?: readonly string[];
  /** node_modules folders relative to the project (default: the root one). */
  moduleDirs?: readonly string[];
  /**
   * How node_modules is copied: `copy` (reflinked where possible; arborist may write files in
   * place) or `link` for pnpm, whose package files are hardlinks into its store that nothing
   * writes in place: hardlinked, with pnpm's own bookkeeping files copied for real.
   */
  modules?: 'copy' | 'link';
  /** Files and folders the package manager reads (.npmrc, patches/): copied in, never moved back. */
  context?: readonly string[];
}

/** Copies the project's install state into a fresh stage (node_modules left out for `ci`). */
export function createStage(projectDir: string, opts: { withNodeModules: boolean } & StageContents): Stage {
  const work = path.join(projectDir, WORK_DIR);
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(path.dirname(projectDir), siblingPrefix(projectDir)));
  } catch {
    // Only then does the project get a work folder before the commit.
    fs.mkdirSync(work, { recursive: true });
    dir = fs.mkdtempSync(path.join(work, 'stage-'));
  }
  for (const name of opts.files ?? STATE_FILES) {
    const from = path.join(projectDir, name);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.copyFileSync(from, path.join(dir, name));
  }
  for (const rel of opts.context ?? []) {
    const from = path.join(projectDir, rel);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, rel), { recursive: true });
  }
  if (opts.withNodeModules) {
    for (const rel of opts.moduleDirs ?? ['node_modules']) {
      const modules = path.join(projectDir, rel);
      if (!fs.existsSync(modules)) continue;
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      if (opts.modules === 'link') linkTree(modules, path.join(dir, rel));
      else copyTree(modules, path.join(dir, rel));
    }
  }
  return { projectDir, dir, files: [...(opts.files ?? STATE_FILES)], moduleDirs: [...(opts.moduleDirs ?? ['node_modules'])] };
}

/**
 * A hardlinked copy of a pnpm node_modules: package files stay shared with pnpm's store (pnpm
 * never writes those in place, and landOutputs replaces rather than rewrites), every other
 * regular file (.modules.yaml, lock.yaml, bin shims) is copied so that writing it in the stage
 * cannot reach the live project.
 */
function linkTree(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', '--link', from, to], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(to, { recursive: true, force: true });
    copyTree(from, to);
    return;
  }
  const unshare = (dir: string, rel: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const sub = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!isPnpmPackageFile(sub)) unshare(full, sub);
      } else if (entry.isFile() && !isPnpmPackageFile(sub)) {
        const tmp = `${full}.si-unshare`;
        fs.copyFileSync(full, tmp);
        fs.renameSync(tmp, full);
      }
    }
  };
  unshare(to, '');
}

/** `.pnpm/<id>/node_modules/<pkg>/...` (not its own node_modules): a file pnpm took from its store. */
function isPnpmPackageFile(rel: string): boolean {
  const m = /^\.pnpm\/[^/]+\/node_modules\/(@[^/]+\/)?[^/.@][^/]*(\/.*)?$/.exec(rel);
  if (!m) return false;
  return !/\/node_modules\//.test(m[2] ?? '');
}

function siblingPrefix(projectDir: string): string {
  return `.${path.basename(projectDir)}.safe-install-stage-`;
}

/** Our stages only: inside the work folder, or a sibling named after the project. */
function isOurStage(projectDir: string, dir: string): boolean {
  const work = path.join(projectDir, WORK_DIR);
  const base = path.basename(dir);
  return (path.dirname(dir) === work && base.startsWith('stage-')) || (path.dirname(dir) === path.dirname(projectDir) && base.startsWith(siblingPrefix(projectDir)));
}

/** A real copy (reflinked where the filesystem can): arborist may write in place in the stage. */
function copyTree(from: string, to: string): void {
  if (process.platform === 'linux') {
    const r = spawnSync('cp', ['-a', '--reflink=auto', from, to], { encoding: 'utf8' });
    if (r.status === 0) return;
    fs.rmSync(to, { recursive: true, force: true });
  }
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}

export function discardStage(stage: Stage): void {
  fs.rmSync(stage.dir, { recursive: true, force: true });
  removeIfEmpty(path.join(stage.projectDir, WORK_DIR));
}

/**
 * One install at a time per project: a second run would take the first one's stage for a
 * leftover and remove it. The lock sits next to the project (like the stage, never in it, so
 * a killed run leaves the project byte-identical) and holds the owner's pid: a lock whose
 * owner is gone is stale and taken over. Returns the release.
 */
export function lockProject(projectDir: string): () => void {
  const file = path.join(path.dirname(projectDir), `.${path.basename(projectDir)}.safe-install-lock`);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A parent we cannot write to: the stage goes inside the project and there is no lock.
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return () => undefined;
      if (code !== 'EEXIST') throw err;
      const owner = Number(readOr(file, ''));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new SafeInstallError('E_USAGE', `another safe-install (pid ${owner}) is installing in ${projectDir}`, 'wait for it to finish, then run this again');
      }
      fs.rmSync(file, { force: true });
      continue;
    }
    fs.writeSync(fd, String(process.pid));
    fs.closeSync(fd);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (readOr(file, '') === String(process.pid)) fs.rmSync(file, { force: true });
    };
  }
  throw new SafeInstallError('E_USAGE', `could not lock ${projectDir} for the install`, `remove ${file} if no safe-install is running`);
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** Test hook: pause at a named point so a test can kill the process there (never set by users). */
export async function testPause(point: string): Promise<void> {
  const wanted = process.env.SAFE_INSTALL_TEST_PAUSE;
  if (!wanted) return;
  const [name, ms] = wanted.split(':');
  if (name !== point) return;
  process.stderr.write(`safe-install: test pause at ${point}\n`);
  await new Promise((r) => setTimeout(r, Number(ms ?? 5000)));
}

/**
 * Moves the stage into the project: node_modules, then the lockfiles, then package.json, then
 * (`--sandbox-root`) what the project's own scripts made, landed in the project folder. The
 * journal goes first (fsynced), so any interruption after it is finished by `recover`. Returns
 * the project's output paths that did not land (see neverCopied).
 */
export async function commitStage(stage: Stage, projectOutputs?: ProjectOutputs): Promise<string[]> {
  const work = path.join(stage.projectDir, WORK_DIR);
  const files = stage.files.filter((name) => fs.existsSync(path.join(stage.dir, name)));
  const journal: Journal = { stage: stage.dir, backup: `backup-${crypto.randomBytes(6).toString('hex')}`, files, dirs: stage.moduleDirs };
  let notLanded: string[] = [];
  if (projectOutputs) {
    // Refused now, before the journal, rather than half-way through the renames.
    notLanded = checkLanding(stage.projectDir, projectOutputs.tar, projectOutputs.removed, 'the project', neverCopied).skipped;
    writeDurable(path.join(stage.dir, PROJECT_OUTPUTS_TAR), projectOutputs.tar);
    journal.projectOutputs = { tar: PROJECT_OUTPUTS_TAR, removed: projectOutputs.removed };
  }
  fs.mkdirSync(work, { recursive: true });
  writeDurable(path.join(work, JOURNAL), JSON.stringify(journal));
  await testPause('commit');
  rollForward(stage.projectDir, journal);
  return notLanded;
}

function rollForward(projectDir: string, journal: Journal): void {
  const work = path.join(projectDir, WORK_DIR);
  const stageDir = journal.stage;
  const backupDir = path.join(work, journal.backup);
  // Each folder is moved (and its stage copy gone) before the next, so a second roll-forward
  // after a crash in this loop skips the folders already done.
  for (const [i, rel] of (journal.dirs ?? ['node_modules']).entries()) {
    const staged = path.join(stageDir, rel);
    const live = path.join(projectDir, rel);
    if (!fs.existsSync(staged)) continue;
    if (fs.existsSync(live)) {
      fs.mkdirSync(backupDir, { recursive: true });
      fs.renameSync(live, path.join(backupDir, `${i}-${path.basename(path.dirname(live))}-node_modules`));
    }
    fs.renameSync(staged, live);
  }
  // The stage's node_modules is gone once moved: a stage without one (a project with no
  // dependencies at all) must not remove the live one, hence only moves, never deletes.
  for (const name of journal.files) {
    const from = path.join(stageDir, name);
    if (fs.existsSync(from)) fs.renameSync(from, path.join(projectDir, name));
  }
  // Landing again after a crash half-way is harmless: files are replaced, removals forced.
  // A landing refused now (the folder changed since the check) must not leave a journal that
  // every later run would retry: the rest is done, the error is reported once.
  let landingError: unknown = null;
  if (journal.projectOutputs) {
    try {
      const tar = fs.readFileSync(path.join(stageDir, journal.projectOutputs.tar));
      landOutputsSync(projectDir, tar, journal.projectOutputs.removed, 'the project', neverCopied);
    } catch (err) {
      landingError = err;
    }
  }
  fs.rmSync(path.join(work, JOURNAL), { force: true });
  fs.rmSync(backupDir, { recursive: true, force: true });
  fs.rmSync(stageDir, { recursive: true, force: true });
  removeIfEmpty(work);
  if (landingError) throw landingError;
}

/**
 * Finishes or cleans up after an interrupted install, before anything else runs in the
 * project. Returns what it did.
 */
export function recoverProject(projectDir: string): 'none' | 'rolled-forward' | 'cleaned' {
  const work = path.join(projectDir, WORK_DIR);
  let journal: Journal | null = null;
  try {
    journal = JSON.parse(fs.readFileSync(path.join(work, JOURNAL), 'utf8')) as Journal;
  } catch {
    journal = null;
  }
  let did: 'none' | 'rolled-forward' | 'cleaned' = 'none';
  if (journal && typeof journal.stage === 'string' && isOurStage(projectDir, journal.stage) && typeof journal.backup === 'string' && !journal.backup.includes('/') && relativeInside(journal.files) && (journal.dirs === undefined || relativeInside(journal.dirs)) && validProjectOutputs(journal.projectOutputs)) {
    rollForward(projectDir, journal);
    did = 'rolled-forward';
  }
  // No journal: stages of runs that never reached the renames; the project never saw them.
  if (fs.existsSync(work)) {
    for (const entry of fs.readdirSync(work)) {
      if (entry.startsWith('stage-') || entry.startsWith('backup-') || entry === JOURNAL) {
        fs.rmSync(path.join(work, entry), { recursive: true, force: true });
        if (did === 'none') did = 'cleaned';
      }
    }
    removeIfEmpty(work);
  }
  const parent = path.dirname(projectDir);
  for (const entry of fs.readdirSync(parent)) {
    if (!entry.startsWith(siblingPrefix(projectDir))) continue;
    fs.rmSync(path.join(parent, entry), { recursive: true, force: true });
    if (did === 'none') did = 'cleaned';
  }
  return did;
}

function validProjectOutputs(value: Journal['projectOutputs']): boolean {
  return value === undefined || (value.tar === PROJECT_OUTPUTS_TAR && Array.isArray(value.removed) && value.removed.every((p) => typeof p === 'string'));
}

/** Paths from a journal stay inside the project: relative, no `..`. */
function relativeInside(paths: unknown): paths is string[] {
  return Array.isArray(paths) && paths.every((p) => typeof p === 'string' && p !== '' && !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'));
}

function writeDurable(file: string, content: string | Buffer): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty, or already gone.
  }
}
