/**
 * Turns the specs a user typed into what arborist is asked to add. Registry, git and URL specs
 * pass through untouched; local tarballs become `file:<abs>`; local folders are packed first,
 * exactly as `npm pack` would but running none of the package's scripts, and then are tarballs.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafeInstallError } from '../errors/index.js';
import { toResolveError, type ErrorContext } from './errors.js';
import type { NpmLibs } from './npm-libs.js';

export interface PreparedSpecs {
  /** Specs for arborist's `add`. */
  add: string[];
  /** Absolute tarball path given to arborist → what the user named (`file:/abs/dir` or `.tgz`). */
  origins: Map<string, string>;
}

/** npm-package-arg's idea of a file name (`isFileType`). */
const TARBALL_NAME = /[.](?:tgz|tar\.gz|tar)$/i;
/** npm-package-arg's `isPosixFile` plus Windows drive and UNC paths. */
const PATH_LIKE = /^(?:\.{1,2}(?:[/\\]|$)|~[/\\]|[/\\]|[a-zA-Z]:[/\\])/;
const URL_LIKE = /^(?:git\+)?[a-z][a-z0-9+.-]*:/i;

/**
 * The local path a spec names, or null for anything npm would fetch.
 *
 * Follows npm-package-arg, with one deliberate difference: a spec like `dir/pkg` that npm
 * reads as GitHub shorthand is taken as a local path when that path exists. The user almost
 * certainly means the folder, and reading it cannot run or fetch anything.
 */
export async function localPathOf(spec: string): Promise<string | null> {
  if (spec.startsWith('file:')) {
    const rest = spec.slice('file:'.length);
    if (rest.startsWith('//')) return fileURLToPath(spec);
    return expandHome(rest);
  }
  if (PATH_LIKE.test(spec)) return expandHome(spec);
  if (URL_LIKE.test(spec) || spec.startsWith('@')) return null;
  if (TARBALL_NAME.test(spec)) return spec;
  if (spec.includes('/') && (await exists(spec))) return spec;
  return null;
}

export async function prepareSpecs(
  specs: readonly string[],
  opts: { tarballDir: string; libs: NpmLibs; ctx: ErrorContext; nextName: (hint: string) => string },
): Promise<PreparedSpecs> {
  const add: string[] = [];
  const origins = new Map<string, string>();
  for (const spec of specs) {
    const local = await localPathOf(spec);
    if (local === null) {
      add.push(spec);
      continue;
    }
    const abs = isAbsolute(local) ? local : resolve(local);
    const st = await stat(abs).catch((err: unknown) => {
      throw new SafeInstallError(
        'E_NOT_A_PACKAGE',
        `${abs} does not exist (${(err as { code?: string }).code ?? 'unreadable'})`,
        'Give a package name, a path to a .tgz made by `npm pack`, or a folder that holds a package.json.',
        { cause: err },
      );
    });
    if (st.isDirectory()) {
      const tarball = await packDirectory(abs, join(opts.tarballDir, opts.nextName(basename(abs) + '-packed')), opts);
      add.push(`file:${tarball}`);
      origins.set(tarball, `file:${abs}`);
    } else if (st.isFile()) {
      add.push(`file:${abs}`);
      origins.set(abs, `file:${abs}`);
    } else {
      throw new SafeInstallError('E_NOT_A_PACKAGE', `${abs} is neither a file nor a folder`, 'Give a .tgz file or a package folder.');
    }
  }
  return { add, origins };
}

/**
 * `npm pack` semantics (npm-packlist: `files`, .npmignore, bundled deps) via pacote's dir fetcher.
 *
 * pacote runs a folder's `prepare` script before packing unless `ignoreScripts` is set
 * (lib/dir.js `#prepareDir`), and never runs `prepack`/`postpack` (only the npm CLI's pack
 * command does). No `cache`: pacote would otherwise store the packed tarball in it.
 */
async function packDirectory(dir: string, dest: string, opts: { libs: NpmLibs; ctx: ErrorContext }): Promise<string> {
  const manifestPath = join(dir, 'package.json');
  const st = await stat(manifestPath).catch(() => null);
  if (!st?.isFile()) {
    throw new SafeInstallError(
      'E_NOT_A_PACKAGE',
      `${dir} is not a package: it has no package.json`,
      'Point at the folder that holds the package.json, or give a package name or a .tgz.',
    );
  }
  const { Arborist, pacote } = opts.libs;
  try {
    await pacote.tarball.file(`file:${dir}`, dest, {
      Arborist,
      ignoreScripts: true,
      cache: undefined,
    } as Parameters<typeof pacote.tarball.file>[2]);
  } catch (err) {
    throw toResolveError(err, { ...opts.ctx, subject: dir });
  }
  return dest;
}

function expandHome(p: string): string {
  return /^~[/\\]/.test(p) ? join(homedir(), p.slice(2)) : p;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
