/** Validation against the official SARIF 2.1.0 schema (test/fixtures/sarif/README.md). */
import fs from 'node:fs';
import path from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import type { ErrorObject } from 'ajv';
import { packageRoot } from '../../src/package-root.js';

export function validateSarif(log: unknown): string[] {
  const schema = JSON.parse(fs.readFileSync(path.join(packageRoot().dir, 'test', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json'), 'utf8')) as Record<string, unknown>;
  // The official schema is draft-04 and has one pattern that is not valid as a unicode regexp.
  const Ajv = AjvDraft04 as unknown as typeof AjvDraft04.default;
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  const validate = ajv.compile(schema);
  return validate(log) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath} ${e.message}`);
}
