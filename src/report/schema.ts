/**
 * Validation against schema/report-v1.schema.json, the published description of the report.
 * The file is read from the repo (or the installed package: `schema/` ships with it) rather than
 * inlined, so the document users read is exactly the one the tests hold the report to.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { SafeInstallError } from '../errors/index.js';

export const REPORT_SCHEMA_FILE = 'schema/report-v1.schema.json';

let compiled: ValidateFunction | undefined;

export function validateReport(doc: unknown): { valid: boolean; errors: string[] } {
  const validate = (compiled ??= compileSchema());
  const valid = validate(doc);
  return { valid, errors: valid ? [] : (validate.errors ?? []).map(describeError) };
}

export function reportSchemaPath(): string {
  return join(packageRoot(), REPORT_SCHEMA_FILE);
}

export function loadReportSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(reportSchemaPath(), 'utf8')) as Record<string, unknown>;
}

function compileSchema(): ValidateFunction {
  // Union types (`["string", "null"]`) mirror the TypeScript types; everything else stays strict.
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(loadReportSchema());
}

/** Walks up from this module (dist/src/report/ or src/report/) to safe-install's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readName(manifest) === 'safe-install') return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new SafeInstallError(
        'E_INTERNAL',
        'cannot find the safe-install package root to load the report schema',
        'reinstall safe-install: its schema/ folder is missing',
      );
    }
    dir = parent;
  }
}

function readName(manifest: string): unknown {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath || '/';
  const allowed = error.keyword === 'enum' ? ` (${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
  return `${where} ${error.message ?? 'is invalid'}${allowed}`;
}
