/**
 * requirements*.txt as pip reads them (pip's `req_file.py`): physical lines ending in `\` join
 * the next one (a line with a comment never does), `#` starts a comment at the start of a line or
 * after whitespace, `${VAR}` expands from the environment, and a line is either options (`-r`,
 * `-c`, `-i`, `--extra-index-url`, `-f`, `--no-index`, `--pre`, `--require-hashes`, `-e`) or a
 * requirement followed by its own options (`--hash`). A logical line is located at its first
 * physical line.
 *
 * Only the text is read here: nothing is resolved, and `-r` / `-c` are returned as directives
 * (repository-relative paths) for the gate to follow, in the working tree and at the base. The
 * requirement itself is checked loosely (a PEP 508 name, then whatever follows); the pip
 * front-end's resolver (pip's own `packaging`) is the judge of the rest.
 */
import path from 'node:path';
import { SafeInstallError } from '../errors/index.js';
import type { LockedPackage, ParsedRequirements, RequirementsDirective } from './types.js';

/** PEP 503 normalisation: what pip compares names by (`Foo.Bar_baz` → `foo-bar-baz`). */
export const canonicalName = (name: string): string => name.replace(/[-_.]+/g, '-').toLowerCase();

const COMMENT = /(^|\s+)#.*$/;
const ARCHIVE = /\.(whl|tar\.gz|zip)$/i;
const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/s;

/** Options a requirements file may hold that change nothing about what gets installed. */
const IGNORED_WITH_VALUE = new Set(['--trusted-host']);

/**
 * Refuses (E_LOCKFILE, with the line) what it cannot read faithfully; with `collect`, such lines
 * are skipped and listed in `problems` instead, for the caller to refuse only if the file matters.
 */
export function parseRequirements(text: string, file: string, env: NodeJS.ProcessEnv = process.env, opts: { collect?: boolean } = {}): ParsedRequirements {
  const packages: LockedPackage[] = [];
  const directives: RequirementsDirective[] = [];
  const skipped: ParsedRequirements['skipped'] = [];
  const problems: SafeInstallError[] = [];
  const fail = (line: number, message: string, hint: string): never => {
    throw new SafeInstallError('E_LOCKFILE', `${file}:${line}: ${message}`, hint);
  };
  for (const { line, text: logical } of logicalLines(text, env)) {
    try {
      parseLine(line, logical);
    } catch (err) {
      if (!opts.collect || !(err instanceof SafeInstallError)) throw err;
      problems.push(err);
    }
  }
  return { kind: 'requirements', path: file, packages, directives, skipped, problems };

  function parseLine(line: number, logical: string): void {
    // pip's break_args_options: the requirement is every space-separated token before the first option.
    const tokens = logical.split(' ');
    const firstOption = tokens.findIndex((t) => t.startsWith('-'));
    const spec = (firstOption < 0 ? tokens : tokens.slice(0, firstOption)).join(' ').trim();
    const options = firstOption < 0 ? [] : tokens.slice(firstOption).filter((t) => t !== '');
    if (spec === '') {
      parseOptionLine(options, line, file, directives, skipped, fail);
      return;
    }
    const hashes: string[] = [];
    for (let i = 0; i < options.length; i++) {
      const opt = options[i]!;
      let value: string | undefined;
      if (opt.startsWith('--hash=')) value = opt.slice('--hash='.length);
      else if (opt === '--hash') value = options[++i];
      else fail(line, `the option ${opt} on a requirement line is not supported by safe-install ci`, 'remove it; only --hash is understood on a requirement line');
      if (!value || !/^sha256:[0-9a-fA-F]{64}$/.test(value)) {
        fail(line, `not a sha256 hash: --hash ${value ?? ''}`.trim(), 'write hashes as --hash=sha256:<64 hex digits> (pip-compile --generate-hashes does)');
      }
      hashes.push(`sha256:${value!.slice('sha256:'.length).toLowerCase()}`);
    }
    packages.push(entryOf(spec, hashes, line, file, fail));
  }
}

function entryOf(spec: string, hashes: string[], line: number, file: string, fail: (line: number, message: string, hint: string) => never): LockedPackage {
  const common = { line, ecosystem: 'pypi' as const, requirement: spec, ...(hashes.length > 0 ? { hashes: [...new Set(hashes)].sort() } : {}) };
  // A local archive (`./dist/pkg-1.0.tar.gz`): name and version from pip's file-name conventions.
  if (ARCHIVE.test(spec) && !spec.includes('://') && !spec.includes(' @ ')) {
    const base = path.posix.basename(spec.replace(/\\/g, '/'));
    const stem = base.replace(ARCHIVE, '');
    const parts = base.toLowerCase().endsWith('.whl') ? stem.split('-') : [stem.slice(0, stem.lastIndexOf('-')), stem.slice(stem.lastIndexOf('-') + 1)];
    if (!parts[0] || !parts[1]) fail(line, `cannot tell the name and version of ${spec} from its file name`, 'name archives as pip does: <name>-<version>.tar.gz or a wheel file name');
    return { ...common, name: canonicalName(parts[0]!), version: parts[1]!, key: canonicalName(parts[0]!), resolved: spec };
  }
  const m = NAME.exec(spec);
  if (!m) fail(line, `not a requirement: ${spec}`, 'write requirements as pip does, e.g. name==1.0 or name>=2');
  const name = canonicalName(m![1]!);
  let rest = m![3]!.trim();
  if (rest.startsWith('@')) {
    // A direct reference (`name @ url`): the resolver decides whether it can be sandboxed.
    const url = rest.slice(1).split(/\s+;/)[0]!.trim();
    return { ...common, name, version: `@ ${url}`, key: name, resolved: url };
  }
  const semi = rest.indexOf(';');
  const marker = semi >= 0 ? rest.slice(semi + 1).trim() : '';
  rest = (semi >= 0 ? rest.slice(0, semi) : rest).trim().replace(/^\((.*)\)$/s, '$1').trim();
  const pin = /^===?\s*([^\s,*;]+)$/.exec(rest);
  const key = marker ? `${name};${marker.replace(/\s+/g, ' ')}` : name;
  if (pin) return { ...common, name, version: pin[1]!, key };
  return { ...common, name, version: rest.replace(/\s+/g, '') || '*', key, unpinned: true };
}

function parseOptionLine(
  options: string[],
  line: number,
  file: string,
  directives: RequirementsDirective[],
  skipped: ParsedRequirements['skipped'],
  fail: (line: number, message: string, hint: string) => never,
): void {
  for (let i = 0; i < options.length; i++) {
    const opt = options[i]!;
    // `--opt=value`, `--opt value`, `-rvalue`, `-r value`.
    const eq = opt.startsWith('--') ? opt.indexOf('=') : -1;
    const flag = eq > 0 ? opt.slice(0, eq) : /^-[a-z]./.test(opt) ? opt.slice(0, 2) : opt;
    const inline = eq > 0 ? opt.slice(eq + 1) : flag !== opt ? opt.slice(2) : undefined;
    const value = (): string => {
      const v = inline ?? options[++i];
      if (v === undefined || v === '') fail(line, `${flag} needs a value`, 'fix the requirements file');
      return v!;
    };
    switch (flag) {
      case '-r':
      case '--requirement':
      case '-c':
      case '--constraint': {
        const target = value();
        const kind = flag === '-c' || flag === '--constraint' ? 'constraint' : 'requirement';
        directives.push({ line, kind, path: includedPath(target, file, line, fail) });
        break;
      }
      case '-i':
      case '--index-url':
        directives.push({ line, kind: 'index-url', value: value() });
        break;
      case '--extra-index-url':
        directives.push({ line, kind: 'extra-index-url', value: value() });
        break;
      case '-f':
      case '--find-links':
        directives.push({ line, kind: 'find-links', value: value() });
        break;
      case '--no-index':
        directives.push({ line, kind: 'no-index' });
        break;
      case '--pre':
        directives.push({ line, kind: 'pre' });
        break;
      case '--require-hashes':
        directives.push({ line, kind: 'require-hashes' });
        break;
      case '-e':
      case '--editable':
        // The project's own code (like npm's root package), built by whoever installs it: not a dependency.
        skipped.push({ line, why: `editable requirement ${value()} (a local project, not a package from an index)` });
        break;
      default:
        if (IGNORED_WITH_VALUE.has(flag)) {
          value();
          break;
        }
        fail(line, `the option ${opt} is not supported by safe-install ci`, 'remove it, or pass what it means as a flag of safe-install ci (--index-url, --extra-index-url, --find-links, --no-index)');
    }
  }
}

/** `-r other.txt` in `sub/requirements.txt` → `sub/other.txt`: repository-relative, forward slashes, inside the repository. */
function includedPath(target: string, file: string, line: number, fail: (line: number, message: string, hint: string) => never): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) fail(line, `including a file by URL (${target}) is not supported`, 'commit the file to the repository and include it by path');
  if (path.isAbsolute(target)) fail(line, `including ${target} by absolute path is not supported: the gate reads it at the base commit too`, 'include it by a path relative to this file');
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), target.replace(/\\/g, '/')));
  if (joined === '..' || joined.startsWith('../')) fail(line, `${target} is outside the repository`, 'include files of this repository only');
  return joined;
}

/** pip's join_lines, ignore_comments and expand_env_variables: logical lines at their first physical line. */
export function logicalLines(text: string, env: NodeJS.ProcessEnv = process.env): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const emit = (line: number, raw: string) => {
    const stripped = raw.replace(COMMENT, '').trim();
    if (stripped !== '') out.push({ line, text: stripped.replace(/\$\{([A-Z0-9_]+)\}/g, (all, name: string) => env[name] ?? all) });
  };
  let joined: string[] = [];
  let first = 0;
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    if (!raw.endsWith('\\') || COMMENT.test(raw)) {
      const line = COMMENT.test(raw) ? ` ${raw}` : raw;
      if (joined.length > 0) {
        joined.push(line);
        emit(first, joined.join(''));
        joined = [];
      } else emit(i + 1, line);
    } else {
      if (joined.length === 0) first = i + 1;
      joined.push(raw.replace(/^\\+|\\+$/g, ''));
    }
  });
  if (joined.length > 0) emit(first, joined.join(''));
  return out;
}
