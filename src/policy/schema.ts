/**
 * schema/policy-v1.schema.json, compiled once. The file is the published description of the
 * format (editors can use it); the formats it names need npm's semver, so they are added here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { packageRoot } from '../package-root.js';
import { parseHostPattern } from './hosts.js';
import { parsePackageKey, parsePackageVersion } from './package-key.js';

export const POLICY_SCHEMA_FILE = 'schema/policy-v1.schema.json';

let compiled: ValidateFunction | undefined;

export function policySchemaPath(): string {
  return path.join(packageRoot().dir, POLICY_SCHEMA_FILE);
}

export function loadPolicySchema(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(policySchemaPath(), 'utf8')) as Record<string, unknown>;
}

export function policyValidator(): ValidateFunction {
  if (compiled) return compiled;
  // verbose: errors carry the failing value and schema, which the messages quote.
  const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
  ajv.addFormat('npm-package-range', (key: string) => parsePackageKey(key) !== null);
  ajv.addFormat('npm-package-version', (key: string) => parsePackageVersion(key) !== null);
  ajv.addFormat('host-pattern', (text: string) => parseHostPattern(text) !== null);
  return (compiled = ajv.compile(loadPolicySchema()));
}
