/**
 * Schema validation with messages that point at a line and say what to write instead.
 * Only the first problem (by line) is reported: the error is one line plus a hint, like every
 * other error of the CLI, and fixing problems top-down is how people edit files anyway.
 */
import type { ErrorObject } from 'ajv';
import { RULE_IDS, SEVERITIES } from '../rules/types.js';
import { closest } from './did-you-mean.js';
import { isPackageName } from './package-key.js';
import { policyValidator } from './schema.js';
import { policyError, type PathSegment, type PolicySource } from './source.js';
import { LOCKED_RULES, type Policy } from './types.js';

const DOCS = 'see docs/policy.md';
const SETTINGS = [...SEVERITIES, 'off'].join(', ');

const CHANGEABLE_RULES = RULE_IDS.filter((id) => !LOCKED_RULES.includes(id));

interface Problem {
  at: PathSegment[];
  what: string;
  hint: string;
}

export function validatePolicy(source: PolicySource): Policy {
  const validate = policyValidator();
  if (validate(source.value)) return normalize(source.value as Policy & { $schema?: string });
  const problems = (validate.errors ?? []).filter((e) => e.keyword !== 'propertyNames').map((e) => describe(e, source));
  const located = problems.map((problem, index) => ({ problem, index, line: source.lineOf(problem.at) }));
  located.sort((a, b) => a.line - b.line || a.index - b.index);
  const first = located[0];
  if (!first) throw policyError(source.display, 1, 'invalid policy', DOCS);
  const more = located.length - 1;
  const hint = more > 0 ? `${first.problem.hint} (${more} more problem${more === 1 ? '' : 's'} in this file)` : first.problem.hint;
  throw policyError(source.display, first.line, first.problem.what, hint);
}

/** Host patterns compare lowercase; `$schema` is for editors and must not change the digest. */
function normalize(value: Policy & { $schema?: string }): Policy {
  const { $schema: _ignored, ...policy } = value;
  if (!policy.packages) return policy;
  const packages = Object.fromEntries(
    Object.entries(policy.packages).map(([key, entry]) => [key, entry.allowEgress ? { ...entry, allowEgress: entry.allowEgress.map((h) => h.toLowerCase()) } : entry]),
  );
  return { ...policy, packages };
}

function describe(error: ErrorObject, source: PolicySource): Problem {
  const base = source.base;
  const parent = pointer(error.instancePath, source.value);
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  const at = propertyName !== undefined ? [...parent, propertyName] : parent;
  const name = render([...base, ...at]);
  const def = /#\/\$defs\/([^/]+)/.exec(error.schemaPath)?.[1];
  const data: unknown = error.data;

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {}).filter((k) => k !== '$schema');
      const guess = closest(key, known);
      return { at: [...parent, key], what: `${render([...base, ...parent, key])} is not a known key`, hint: `${guess ? `did you mean ${guess}? ` : ''}keys here: ${known.join(', ')}` };
    }
    case 'type': {
      const expected = (error.params as { type: string }).type;
      return { at, what: `${name} must be ${article(expected)}`, hint: `found ${typeName(data)}; ${example(at)}` };
    }
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return { at, what: `${name} needs "${missing}"`, hint: requiredHint(missing) };
    }
    case 'enum':
      // The list or mapping is named, not the entry: `rules: shel-spawn is not a rule id`.
      if (def === 'ruleId') return ruleIdProblem(at, render([...base, ...(propertyName !== undefined ? parent : parent.slice(0, -1))]), String(data));
      if (def === 'ruleSetting') return { at, what: `${name} must be one of ${SETTINGS}`, hint: `found ${JSON.stringify(data)}${data === false ? ' (write off, not false or no)' : ''}` };
      return { at, what: `${name} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`, hint: `found ${JSON.stringify(data)}` };
    case 'format':
      return formatProblem(at, name, String(data), (error.params as { format: string }).format);
    case 'pattern':
      return { at, what: `${name} is not an integrity hash`, hint: 'copy it from package-lock.json or `npm view <name>@<version> dist.integrity`, e.g. sha512-…' };
    case 'minItems':
    case 'minLength':
      return { at, what: `${name} must not be empty`, hint: at[at.length - 1] === 'rules' ? 'list the rules accepted, or leave rules out to accept every finding but critical ones' : DOCS };
    default:
      return { at, what: `${name} ${error.message ?? 'is invalid'}`, hint: DOCS };
  }
}

function ruleIdProblem(at: PathSegment[], name: string, id: string): Problem {
  if ((LOCKED_RULES as readonly string[]).includes(id)) {
    return { at, what: `${name}: ${id} cannot be changed by a policy`, hint: 'a script that did not finish, or that the sandbox could not watch, is never allowed; for slow builds raise --script-timeout' };
  }
  const guess = closest(id, CHANGEABLE_RULES);
  return { at, what: `${name}: ${id} is not a rule id`, hint: `${guess ? `did you mean ${guess}? ` : ''}rule ids: ${CHANGEABLE_RULES.join(', ')}` };
}

function formatProblem(at: PathSegment[], name: string, value: string, format: string): Problem {
  if (format === 'host-pattern') {
    const ip = /^[\d.:[\]]+$/.test(value) || /^\[/.test(value);
    return {
      at,
      what: `${name}: ${JSON.stringify(value)} is not a host pattern`,
      hint: ip ? 'an IP address cannot be allowed (it does not say who is behind it): name the host' : 'write a host (registry.npmjs.org), *.suffix (*.github.com) or either with :port (*.github.com:443)',
    };
  }
  if (format === 'npm-package-version') {
    return { at, what: `${name} must be name@version with one exact version`, hint: `found ${JSON.stringify(value)}; e.g. sharp@0.33.5: an acknowledgement is for one exact tarball` };
  }
  const at1 = value.indexOf('@', 1);
  const packageName = at1 === -1 ? value : value.slice(0, at1);
  if (!isPackageName(packageName)) return { at, what: `${name}: ${JSON.stringify(packageName)} is not a package name`, hint: 'write name or name@range, e.g. "esbuild" or "@scope/pkg@^1.2.0"' };
  return { at, what: `${name}: ${JSON.stringify(value.slice(at1 + 1))} is not a semver range`, hint: 'write name@<npm semver range>, e.g. "esbuild@>=0.20" or "esbuild@0.20.x", or the name alone for any version; tags like latest are not ranges' };
}

function requiredHint(missing: string): string {
  switch (missing) {
    case 'integrity':
      return 'the integrity pins the acknowledgement to one tarball: copy it from package-lock.json or `npm view <name>@<version> dist.integrity`';
    case 'reason':
      return 'say why it is accepted and who checked it, e.g. reason: "downloads libvips from github, checked by @alice"';
    case 'package':
      return 'name the exact package, e.g. package: sharp@0.33.5';
    default:
      return DOCS;
  }
}

const EXAMPLES: Record<string, string> = {
  allowEgress: 'e.g. allowEgress: ["registry.npmjs.org", "*.github.com:443"]',
  rules: 'e.g. rules: { shell-spawn: off, network-egress: medium }',
  packages: 'e.g. packages: { "esbuild@>=0.20": { allowEgress: ["registry.npmjs.org"] } }',
  acknowledge: 'e.g. acknowledge: [{ package: sharp@0.33.5, integrity: sha512-…, reason: "…" }]',
};

function example(at: PathSegment[]): string {
  const last = at[at.length - 1];
  return (typeof last === 'string' ? EXAMPLES[last] : undefined) ?? DOCS;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return article(typeof value);
}

/** A JSON pointer as path segments: numbers where the value there is a list. */
function pointer(instancePath: string, value: unknown): PathSegment[] {
  if (instancePath === '') return [];
  const at: PathSegment[] = [];
  let here = value;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(here) ? Number(key) : key;
    at.push(segment);
    here = here !== null && typeof here === 'object' ? (here as Record<PathSegment, unknown>)[segment] : undefined;
  }
  return at;
}

/** `packages."esbuild@>=0.20".allowEgress`, `acknowledge[0].integrity`. */
export function render(at: PathSegment[]): string {
  if (at.length === 0) return 'the policy';
  return at
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const plain = /^[A-Za-z_$][\w$-]*$/.test(segment) ? segment : JSON.stringify(segment);
      return index === 0 ? plain : `.${plain}`;
    })
    .join('');
}
