/**
 * What kind of program an image is, and what an interpreter was told to run. Several rules ask
 * the same questions (is this a shell? which file does `node x.js` load? does `sh` read its
 * commands from a pipe?), so the answers live here, once.
 */
import { posix } from 'node:path';
import type { ProcessEvent } from '../session/types.js';
import { programNames, type RanImage } from './processes.js';

export const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'mksh', 'fish']);

/** Versioned names count: python3.11, perl5.36, php8.2, ruby3.1, lua5.4. */
const INTERPRETER = /^(python[\d.]*|perl[\d.]*|ruby[\d.]*|node|nodejs|php[\d.]*|lua[\d.]*|luajit|tclsh[\d.]*|pwsh|deno|bun|osascript)$/;

/** Programs whose job is fetching from the network. */
export const DOWNLOADERS = new Set(['curl', 'wget', 'aria2c', 'fetch', 'ftp', 'tftp', 'scp', 'sftp', 'rsync', 'git', 'svn', 'hg', 'http', 'https', 'lwp-download', 'lwp-request', 'GET']);

/** Programs that move raw bytes between a socket and stdio: the far end of a reverse shell. */
export const SOCKET_RELAYS = new Set(['nc', 'ncat', 'netcat', 'nc.traditional', 'nc.openbsd', 'socat', 'telnet', 'openssl', 'cryptcat', 'pwncat']);

export function hasProgram(image: RanImage, set: ReadonlySet<string>): boolean {
  return programNames(image).some((name) => set.has(name));
}

export function isShell(image: RanImage): boolean {
  return hasProgram(image, SHELLS);
}

export function isInterpreter(image: RanImage): boolean {
  return programNames(image).some((name) => INTERPRETER.test(name));
}

export function isShellOrInterpreter(image: RanImage): boolean {
  return isShell(image) || isInterpreter(image);
}

export function isNode(image: RanImage): boolean {
  return programNames(image).some((name) => name === 'node' || name === 'nodejs');
}

/** What an interpreter image was asked to run. */
export type ScriptSource =
  /** A script file (absolute, resolved against `cwd`), plus files preloaded with `-r`/`--import`. */
  | { kind: 'file'; path: string; preloads: string[] }
  /** Inline code (`-c`, `-e`, `-p`), or a module by name (`python -m`). */
  | { kind: 'inline'; preloads: string[] }
  /** Commands read from stdin: a pipe, a socket, a terminal. */
  | { kind: 'stdin'; preloads: string[] };

interface OptionSyntax {
  /** Options whose presence means inline code or a named module (no file operand follows). */
  inline: RegExp;
  /** Options that consume the next argument as their value. */
  takesValue: RegExp;
  /** Of those, the ones whose value is a file the interpreter loads. */
  loads?: RegExp;
  /** Options that mean "read the program from stdin". */
  stdin?: RegExp;
}

const SHELL_SYNTAX: OptionSyntax = {
  inline: /^-[a-zA-Z]*c[a-zA-Z]*$/,
  takesValue: /^([-+]o|--rcfile|--init-file)$/,
  stdin: /^-[a-zA-Z]*s[a-zA-Z]*$/,
};
const SYNTAX: { test: RegExp; syntax: OptionSyntax }[] = [
  { test: /^(python[\d.]*)$/, syntax: { inline: /^-[a-zA-Z]*[cm]$|^-[cm].+/, takesValue: /^-[WXQ]$/ } },
  {
    test: /^(node|nodejs|bun|deno)$/,
    syntax: {
      inline: /^(-e|-p|--eval|--print|-pe|-ep)$|^--(eval|print)=/,
      takesValue: /^(-r|--require|--import|--loader|--experimental-loader|--input-type|--title|--env-file|--inspect-port|-C|--conditions)$/,
      loads: /^(-r|--require|--import|--loader|--experimental-loader)$/,
    },
  },
  { test: /^(perl[\d.]*)$/, syntax: { inline: /^-[a-zA-Z]*[eE]$/, takesValue: /^-[IMmx]$/ } },
  { test: /^(ruby[\d.]*)$/, syntax: { inline: /^-[a-zA-Z]*e$/, takesValue: /^-[rIC]$/, loads: /^-r$/ } },
  { test: /^(php[\d.]*)$/, syntax: { inline: /^-r$/, takesValue: /^-[cdz]$/ } },
];

/**
 * The script an interpreter or shell image runs, from its argv; null for other programs. Only
 * options before the first operand belong to the interpreter, as for the shells themselves.
 */
export function scriptSource(image: RanImage, cwd: string): ScriptSource | null {
  const syntax = syntaxOf(image);
  if (!syntax) return null;
  const preloads: string[] = [];
  const args = image.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-') return { kind: 'stdin', preloads };
    if (arg === '--') {
      const next = args[i + 1];
      return next === undefined ? { kind: 'stdin', preloads } : { kind: 'file', path: absolute(next, cwd), preloads };
    }
    if (syntax.inline.test(arg)) return { kind: 'inline', preloads };
    if (syntax.stdin?.test(arg)) return { kind: 'stdin', preloads };
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0 && syntax.loads?.test(arg.slice(0, eq))) {
      preloads.push(absolute(arg.slice(eq + 1), cwd));
      continue;
    }
    if (syntax.takesValue.test(arg)) {
      const value = args[++i];
      if (value !== undefined && syntax.loads?.test(arg)) preloads.push(absolute(value, cwd));
      continue;
    }
    if (arg.startsWith('-') || (syntax === SHELL_SYNTAX && arg.startsWith('+'))) continue;
    return { kind: 'file', path: absolute(arg, cwd), preloads };
  }
  return { kind: 'stdin', preloads };
}

function syntaxOf(image: RanImage): OptionSyntax | null {
  if (isShell(image)) return SHELL_SYNTAX;
  for (const name of programNames(image)) {
    const found = SYNTAX.find((entry) => entry.test.test(name));
    if (found) return found.syntax;
  }
  return null;
}

function absolute(path: string, cwd: string): string {
  return posix.resolve(cwd, path);
}

/** The exec'd image of a shell or interpreter that reads its program from stdin, if any. */
export function stdinInterpreter(process: ProcessEvent): RanImage | undefined {
  return process.images
    .map((image, index): RanImage => ({ index, path: image.path, argv: image.argv }))
    .find((image) => isShellOrInterpreter(image) && scriptSource(image, process.cwd)?.kind === 'stdin');
}
