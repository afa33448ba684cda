import { SANDBOX_NODE_PREFIX } from '../sandbox/layout.js';
import type { FileEvent } from '../session/types.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { indexChain, type ChainIndex } from './chain-index.js';
import { CHANGE_OPS, contentPath, isAttempt, removedPath } from './file-changes.js';
import { displayPath, isInside, normalizePath, relativeInside } from './paths.js';
import { classifyPersistence } from './persistence-paths.js';
import { scriptSource } from './programs.js';
import { imagesOf, programNames } from './processes.js';
import { originOf } from './provenance.js';
import { listSome } from './text.js';

/**
 * Changes to code and files that are not the package's own:
 * - another package's folder (any other `location` of the chain, nested ones included);
 * - the host project's files: anything in the project outside node_modules, lockfiles named;
 * - `node_modules/.bin` entries: every later script and `npx` call runs what they point to;
 * - the node/npm installation itself.
 * Deleting them is `destructive`; config that makes code run later (the project's .npmrc,
 * .vscode, git hooks) is `persistence`. Each is reported once, by the most specific rule.
 *
 * Hiding tracks has no id of its own in ARCHITECTURE.md, and a package erasing the evidence of
 * what it ran is tampering with what the user will inspect: a package that deletes or rewrites
 * a file it shipped and ran (its install script), or its own package.json, during its scripts is
 * reported here, high, as "hiding its tracks". Files it created during the session (a build's
 * `conftest`, temp scripts) are not evidence of anything and may go.
 */
export const tamperingRule: Rule = {
  id: 'tampering',
  evaluate(ctx) {
    const index = indexChain(ctx.chain);
    const byTarget = new Map<string, { label: string; shown: Set<string>; events: FileEvent[] }>();
    for (const event of ctx.session.files) {
      if (!CHANGE_OPS.has(event.op) || event.op === 'delete' || !isAttempt(event)) continue;
      const path = event.op === 'rename' ? event.target : (contentPath(event) ?? event.path);
      if (path === undefined || isPythonBytecodeCache(event, path, index)) continue;
      const target = tamperTargetOf(path, ctx, index);
      if (!target) continue;
      const entry = byTarget.get(target.key) ?? { label: target.label, shown: new Set<string>(), events: [] };
      entry.shown.add(displayPath(path, { home: ctx.paths.home }));
      entry.events.push(event);
      byTarget.set(target.key, entry);
    }
    const findings: Finding[] = [...byTarget.values()].map(({ label, shown, events }) => ({
      rule: 'tampering',
      severity: 'high',
      message: `${events.some((e) => e.result === 'ok') ? 'changes' : 'tries to change'} ${label}: ${listSome([...shown])}`,
      evidence: events.map((event) => event.id),
    }));
    const hiding = hidingTracks(ctx, index);
    return hiding ? [...findings, hiding] : findings;
  },
};

export interface TamperTarget {
  /** Groups findings: one per package, one for the project, one for .bin, one for node. */
  key: string;
  label: string;
}

const LOCKFILES = /^(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?|node_modules\/\.package-lock\.json)$/;

/** What a change to `path` tampers with, if anything: shared with write-outside-package so a change is reported once. */
export function tamperTargetOf(path: string, ctx: RuleContext, index: ChainIndex): TamperTarget | undefined {
  const p = normalizePath(path);
  const { projectDir } = ctx.paths;
  const owner = index.packageOwning(p);
  if (owner === ctx.pkg.location) return undefined;
  if (classifyPersistence(p, ctx.paths)) return undefined;
  if (isInside(p, projectDir) && /\/node_modules\/\.bin\/[^/]+$/.test(p)) return { key: '.bin', label: 'commands in node_modules/.bin' };
  if (owner !== undefined && owner !== '') {
    const name = ctx.chain.packages.find(({ info }) => info.location === owner)?.info.name ?? owner;
    return { key: `package:${owner}`, label: `another package (${name})` };
  }
  const inProject = relativeInside(p, projectDir);
  if (inProject !== null && LOCKFILES.test(inProject)) return { key: 'lockfile', label: "the project's lockfile" };
  if (inProject !== null && inProject !== '' && inProject !== 'node_modules' && !inProject.startsWith('node_modules/')) {
    return { key: 'project', label: "the host project's files" };
  }
  if (isInside(p, `${SANDBOX_NODE_PREFIX}/lib/node_modules`) || isInside(p, `${SANDBOX_NODE_PREFIX}/bin`)) {
    return { key: 'node', label: 'the node/npm installation' };
  }
  return undefined;
}

/** Its own package.json, or a shipped file it ran, deleted or rewritten after it ran. */
function hidingTracks(ctx: RuleContext, index: ChainIndex): Finding | undefined {
  const ownDir = ctx.paths.packageDir;
  const ran = new Map<string, number>();
  for (const process of ctx.session.processes) {
    for (const [i, image] of process.images.entries()) {
      const source = scriptSource({ index: i, path: image.path, argv: image.argv }, process.cwd);
      for (const path of [image.path, source?.kind === 'file' ? source.path : undefined]) {
        if (path === undefined || !isInside(path, ownDir) || originOf(index, path, image.time)) continue;
        const p = normalizePath(path);
        ran.set(p, Math.min(ran.get(p) ?? Number.POSITIVE_INFINITY, image.time));
      }
    }
  }
  const manifest = `${ownDir}/package.json`;
  const events = ctx.session.files.filter((event) => {
    if (event.result !== 'ok' || !['write', 'create', 'delete', 'rename'].includes(event.op)) return false;
    return [removedPath(event), contentPath(event)].some((path) => {
      if (path === undefined) return false;
      const p = normalizePath(path);
      return p === manifest || (ran.get(p) ?? Number.POSITIVE_INFINITY) < event.time;
    });
  });
  if (events.length === 0) return undefined;
  const shown = [...new Set(events.flatMap((e) => [removedPath(e), contentPath(e)]).filter((p): p is string => p !== undefined && (normalizePath(p) === manifest || ran.has(normalizePath(p)))))];
  return {
    rule: 'tampering',
    severity: 'high',
    message: `deletes/rewrites its own install script after running it (hiding its tracks): ${listSome(shown.map((p) => displayPath(p, ctx.paths)))}`,
    evidence: events.map((event) => event.id),
  };
}

/**
 * Python caches the bytecode of what it imports next to the source. node-gyp's gyp does that on
 * every build: in npm's read-only folder it fails quietly (any machine where npm is installed as
 * root), in a node-gyp package of the tree it succeeds (`__pycache__/*.pyc`, via a temp file and
 * a rename). Neither is tampering: a failed attempt at a cache path, or a python process writing
 * the cache of the very package its script comes from. A .pyc written into someone else's code
 * by anything else (pyc poisoning) still is.
 */
export function isPythonBytecodeCache(event: FileEvent, path: string, index: ChainIndex): boolean {
  if (!/\/__pycache__(\/[^/]+\.pyc(\.\d+)?)?$/.test(path)) return false;
  if (event.result !== 'ok') return true;
  const writer = index.process(event.processId);
  if (!writer || !imagesOf(writer).some((image) => programNames(image).some((name) => /^python[\d.]*$/.test(name)))) return false;
  const owner = index.packageOwning(normalizePath(path));
  return Boolean(owner) && writer.argv.slice(1).some((arg) => arg.startsWith('/') && index.packageOwning(normalizePath(arg)) === owner);
}
