/**
 * Every validation error names the file and the exact line, and says how to fix it: a typo in a
 * policy must stop the scan, never silently weaken it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadPolicy } from '../../src/policy/index.js';
import { folder, lines, NO_USER, policyError } from './support.js';

async function errorFor(name: string, content: string): Promise<{ message: string; hint: string; code: string; file: string }> {
  const dir = folder({ [name]: content });
  const err = await policyError(loadPolicy({ projectDir: dir, userConfigDir: NO_USER }));
  return { message: err.message, hint: err.hint, code: err.code, file: path.join(dir, name) };
}

async function expectError(name: string, content: string, line: number, what: string | RegExp, hint?: RegExp): Promise<void> {
  const err = await errorFor(name, content);
  assert.equal(err.code, 'E_POLICY');
  const prefix = `${err.file}:${line}: `;
  assert.ok(err.message.startsWith(prefix), `expected "${prefix}…", got "${err.message}"`);
  const rest = err.message.slice(prefix.length);
  if (typeof what === 'string') assert.equal(rest, what);
  else assert.match(rest, what);
  if (hint) assert.match(err.hint, hint);
}

const YAML = 'safe-install.config.yaml';

describe('policy validation errors', () => {
  test('wrong type, at the line of its key (the example of the docs)', async () => {
    const text = lines(
      '# project policy',
      'failOn: review',
      'rules:',
      '  shell-spawn: off',
      '  network-egress: medium',
      'packages:',
      '  "esbuild@>=0.20":',
      '    allowEgress: registry.npmjs.org',
    );
    await expectError(YAML, text, 8, 'packages."esbuild@>=0.20".allowEgress must be an array', /found a string; e\.g\. allowEgress: \[/);
  });

  test('wrong type of a block value points at its key, not the next line', async () => {
    await expectError(YAML, lines('failOn: block', 'rules:', '  - shell-spawn'), 2, 'rules must be an object', /found an array/);
  });

  test('a policy that is not a mapping', async () => {
    await expectError(YAML, lines('- shell-spawn: off'), 1, 'the policy must be an object');
  });

  test('malformed YAML', async () => {
    await expectError(YAML, lines('failOn: review', 'rules:', '  shell-spawn: off', ' network-egress: medium'), 4, /^invalid YAML: /, /YAML syntax/);
    await expectError(YAML, lines('rules:', '  shell-spawn: off', 'packages: [a,', 'failOn: review'), 4, /^invalid YAML: /);
  });

  test('an unquoted *.suffix is a YAML alias: the hint says to quote it', async () => {
    await expectError(YAML, lines('packages:', '  esbuild:', '    allowEgress:', '      - registry.npmjs.org', '      - *.github.com:443'), 5, 'invalid YAML: *.github.com:443 is an alias to an anchor that does not exist', /must be quoted in YAML, e\.g\. "\*\.github\.com:443"/);
  });

  test('a duplicate key is a YAML error, not a silent override', async () => {
    await expectError(YAML, lines('rules:', '  shell-spawn: info', '  shell-spawn: off'), 3, /^invalid YAML: Map keys must be unique/);
  });

  test('malformed JSON, including what YAML would forgive', async () => {
    await expectError('safe-install.config.json', '{\n  "rules": {\n    "shell-spawn": "off",\n  }\n}\n', 4, /^invalid JSON: /, /JSON syntax/);
    await expectError('safe-install.config.json', '{\n  "failOn": "review"\n  "rules": {}\n}\n', 3, /^invalid JSON: /);
  });

  test('unknown keys, with a guess', async () => {
    await expectError(YAML, lines('failOn: review', 'rule:', '  shell-spawn: off'), 2, 'rule is not a known key', /did you mean rules\? keys here: failOn, rules, packages, acknowledge/);
    await expectError(YAML, lines('packages:', '  esbuild:', '    rules: {}', '    allowEgres: []'), 4, 'packages.esbuild.allowEgres is not a known key', /did you mean allowEgress\?/);
    await expectError(YAML, lines('acknowledge:', '  - package: sharp@0.33.5', '    integrity: sha512-AAAA', '    reason: ok', '    rule: [recon]'), 5, 'acknowledge[0].rule is not a known key', /did you mean rules\?/);
  });

  test('bad semver range and bad package name', async () => {
    await expectError(YAML, lines('packages:', '  esbuild: {}', '  esbuild@latest: {}'), 3, 'packages."esbuild@latest": "latest" is not a semver range', /tags like latest are not ranges/);
    await expectError(YAML, lines('packages:', '  "@scope/pkg@>=1 <2": {}', '  "@scope/pkg@>=1 <<2": {}'), 3, 'packages."@scope/pkg@>=1 <<2": ">=1 <<2" is not a semver range');
    await expectError(YAML, lines('packages:', '  "esbuild@": {}'), 2, 'packages."esbuild@": "" is not a semver range');
    await expectError(YAML, lines('packages:', '', '  "Bad Name": {}'), 3, 'packages."Bad Name": "Bad Name" is not a package name');
  });

  test('bad rule ids, in rules and in acknowledgements', async () => {
    await expectError(YAML, lines('rules:', '  network-egress: low', '  shel-spawn: off'), 3, 'rules: shel-spawn is not a rule id', /did you mean shell-spawn\? rule ids: credential-access,/);
    await expectError(YAML, lines('packages:', '  sharp:', '    rules:', '      nativebuild: off'), 4, 'packages.sharp.rules: nativebuild is not a rule id', /did you mean native-build\?/);
    await expectError(
      YAML,
      lines('acknowledge:', '  - package: sharp@0.33.5', '    integrity: sha512-AAAA', '    reason: ok', '    rules:', '      - recon', '      - network-egres'),
      7,
      'acknowledge[0].rules: network-egres is not a rule id',
    );
  });

  test('timeout and sandbox-error cannot be changed', async () => {
    await expectError(YAML, lines('rules:', '  timeout: off'), 2, 'rules: timeout cannot be changed by a policy', /--script-timeout/);
    await expectError(YAML, lines('acknowledge:', '  - package: a@1.0.0', '    integrity: sha512-AAAA', '    reason: ok', '    rules: [sandbox-error]'), 5, 'acknowledge[0].rules: sandbox-error cannot be changed by a policy');
  });

  test('bad severity', async () => {
    await expectError(YAML, lines('rules:', '  shell-spawn: off', '  network-egress: hgh'), 3, 'rules.network-egress must be one of critical, high, medium, low, info, off', /found "hgh"/);
    await expectError(YAML, lines('packages:', '  sharp:', '    rules:', '      native-build: false'), 4, 'packages.sharp.rules.native-build must be one of critical, high, medium, low, info, off', /write off, not false/);
    await expectError(YAML, lines('failOn: allow'), 1, 'failOn must be one of review, block');
  });

  test('host patterns: no IP addresses, no bad ports', async () => {
    await expectError(YAML, lines('packages:', '  a:', '    allowEgress:', '      - registry.npmjs.org', '      - 192.0.2.1'), 5, 'packages.a.allowEgress[1]: "192.0.2.1" is not a host pattern', /IP address/);
    await expectError(YAML, lines('packages:', '  a:', '    allowEgress: ["*.github.com:99999"]'), 3, 'packages.a.allowEgress[0]: "*.github.com:99999" is not a host pattern', /\*\.suffix/);
    await expectError(YAML, lines('packages:', '  a:', '    allowEgress: ["*github.com"]'), 3, /is not a host pattern$/);
  });

  test('acknowledgements: exact version, integrity, reason', async () => {
    await expectError(YAML, lines('acknowledge:', '  - package: sharp@^0.33', '    integrity: sha512-AAAA', '    reason: ok'), 2, 'acknowledge[0].package must be name@version with one exact version');
    await expectError(YAML, lines('acknowledge:', '  - package: sharp@0.33.5', '    integrity: md5-AAAA', '    reason: ok'), 3, 'acknowledge[0].integrity is not an integrity hash', /package-lock\.json/);
    await expectError(YAML, lines('acknowledge:', '  - package: sharp@0.33.5', '    reason: ok'), 2, 'acknowledge[0] needs "integrity"', /npm view/);
    await expectError(YAML, lines('acknowledge:', '  - package: sharp@0.33.5', '    integrity: sha512-AAAA', '  - package: a@1.0.0', '    integrity: sha512-AAAA'), 2, 'acknowledge[0] needs "reason"');
    await expectError(YAML, lines('acknowledge:', '  - package: sharp@0.33.5', '    integrity: sha512-AAAA', '    reason: ok', '    rules: []'), 5, 'acknowledge[0].rules must not be empty');
  });

  test('JSON files get line numbers too', async () => {
    const json = JSON.stringify({ failOn: 'review', packages: { 'esbuild@>=0.20': { allowEgress: 'registry.npmjs.org' } } }, null, 2);
    // {, "failOn", "packages", "esbuild@>=0.20", "allowEgress" → line 5
    await expectError('safe-install.config.json', json, 5, 'packages."esbuild@>=0.20".allowEgress must be an array');
  });

  test('package.json: the path starts at safeInstall and the line is in package.json', async () => {
    const manifest = JSON.stringify({ name: 'app', version: '1.0.0', safeInstall: { rules: { 'shell-spawn': 'of' } } }, null, 2);
    await expectError('package.json', manifest, 6, 'safeInstall.rules.shell-spawn must be one of critical, high, medium, low, info, off');
  });

  test('the first problem by line is reported, with a count of the others', async () => {
    const err = await errorFor(YAML, lines('rules:', '  shell-spawn: bad', 'failOn: never', 'extra: 1'));
    assert.match(err.message, /:2: rules\.shell-spawn must be one of/);
    assert.match(err.hint, /\(2 more problems in this file\)$/);
  });

  test('the user policy is checked too, and named', async () => {
    const user = folder({ 'config.yml': lines('failOn: review', 'packages:', '  a@1: { allowEgress: [x.example], rule: {} }') });
    const err = await policyError(loadPolicy({ userConfigDir: user }));
    assert.equal(err.message, `${path.join(user, 'config.yml')}:3: packages."a@1".rule is not a known key`);
  });
});
