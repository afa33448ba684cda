/**
 * Reading a policy file with positions. JSON is parsed by the YAML parser too (JSON is YAML), so
 * a problem found later, by the schema, can still be pointed at a line in either format.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { SafeInstallError } from '../errors/index.js';

export type PathSegment = string | number;

export interface PolicySource {
  /** Absolute path. */
  file: string;
  /** How to name the file in messages: relative to the working directory when inside it. */
  display: string;
  /** The policy value (the `safeInstall` key for a package.json); undefined when absent. */
  value: unknown;
  /** Where the policy sits inside the document: `['safeInstall']` for a package.json. */
  base: PathSegment[];
  /** The line (1-based) of the value at a path under `base`; of its key when it is in a mapping. */
  lineOf(at: PathSegment[]): number;
}

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

export function policyError(display: string, line: number, what: string, hint: string): SafeInstallError {
  return new SafeInstallError('E_POLICY', `${display}:${line}: ${what}`, hint);
}

/** null when the file does not exist. */
export function readPolicySource(file: string, opts: { packageJson?: boolean } = {}): PolicySource | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SafeInstallError('E_POLICY', `cannot read the policy ${displayPath(file)}: ${(err as Error).message}`, 'check the path and its permissions', { cause: err });
  }
  return parsePolicyText(text, file, opts);
}

export function parsePolicyText(text: string, file: string, opts: { packageJson?: boolean } = {}): PolicySource {
  const display = displayPath(file);
  const json = opts.packageJson === true || file.endsWith('.json');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, uniqueKeys: true, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const what = syntax.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '');
    throw policyError(display, lineCounter.linePos(syntax.pos[0]).line, `${json ? 'invalid JSON' : 'invalid YAML'}: ${what}`, json ? 'fix the JSON syntax' : 'fix the YAML syntax (keys with `@`, `>`, `*` or `:` are safest quoted)');
  }
  let whole: unknown;
  if (json) {
    // The YAML parser forgives what JSON does not (comments, trailing commas); npm does not.
    try {
      whole = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      const position = /position (\d+)/.exec((err as Error).message);
      const line = position ? lineCounter.linePos(Number(position[1])).line : 1;
      throw policyError(display, line, `invalid JSON: ${(err as Error).message.replace(/ in JSON at position \d+.*$/, '')}`, 'fix the JSON syntax (no comments or trailing commas in JSON)');
    }
  } else {
    unresolvedAlias(doc, lineCounter, display);
    try {
      whole = doc.toJS();
    } catch (err) {
      // Only alias expansion fails here (a "billion laughs" document).
      throw policyError(display, 1, `invalid YAML: ${(err as Error).message}`, 'use fewer aliases (`*name`): write the values out');
    }
  }
  const base: PathSegment[] = opts.packageJson === true ? ['safeInstall'] : [];
  const value = opts.packageJson === true ? (whole as Record<string, unknown> | null)?.safeInstall : (whole ?? {});
  return { file, display, value, base, lineOf: (at) => lineOf(doc, lineCounter, [...base, ...at]) };
}

/** `allowEgress: [*.github.com]` is an alias in YAML: the likeliest mistake in a policy file. */
function unresolvedAlias(doc: Document, lineCounter: LineCounter, display: string): void {
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) !== undefined) return;
      const line = lineCounter.linePos(alias.range?.[0] ?? 0).line;
      throw policyError(display, line, `invalid YAML: *${alias.source} is an alias to an anchor that does not exist`, `a value starting with * must be quoted in YAML, e.g. "*${alias.source}"`);
    },
  });
}

/** Walks as far as the document allows: a path that leaves it points at its deepest known node. */
function lineOf(doc: Document, lineCounter: LineCounter, at: PathSegment[]): number {
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (const segment of at) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment));
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineCounter.linePos(offset).line;
}
