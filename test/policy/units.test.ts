/** Host patterns, package selectors, the schema's rule list, and suggestAllow. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import { applyPolicy, suggestAllow } from '../../src/policy/index.js';
import { hostMatches, parseHostPattern } from '../../src/policy/hosts.js';
import { parsePackageKey, parsePackageVersion } from '../../src/policy/package-key.js';
import { loadPolicySchema } from '../../src/policy/schema.js';
import { LOCKED_RULES } from '../../src/policy/types.js';
import { assess } from '../../src/rules/index.js';
import { RULE_IDS } from '../../src/rules/types.js';
import { ChainBuilder } from '../rules/chain-builder.js';
import { folder, NO_USER } from './support.js';
import { loadPolicy, policyOf } from '../../src/policy/index.js';

describe('host patterns', () => {
  test('valid and invalid', () => {
    assert.deepEqual(parseHostPattern('registry.npmjs.org'), { host: 'registry.npmjs.org', wildcard: false });
    assert.deepEqual(parseHostPattern('*.GitHub.com:443'), { host: 'github.com', wildcard: true, port: 443 });
    assert.deepEqual(parseHostPattern('localhost'), { host: 'localhost', wildcard: false });
    for (const bad of ['192.0.2.1', '192.0.2.1:443', '[::1]', '::1', '*.0.2.1', '*', '*.', 'a..b', '-a.com', 'a.com:0', 'a.com:65536', '**.a.com', 'a.*.com', 'http://a.com', 'a.com/x', '']) {
      assert.equal(parseHostPattern(bad), null, bad);
    }
  });

  test('matching', () => {
    const wildcard = parseHostPattern('*.github.com:443')!;
    assert.ok(hostMatches(wildcard, 'api.github.com', 443));
    assert.ok(hostMatches(wildcard, 'API.GitHub.com.', 443));
    assert.ok(hostMatches(wildcard, 'api.github.com'), 'port not judged (DNS)');
    assert.ok(!hostMatches(wildcard, 'api.github.com', 80));
    assert.ok(!hostMatches(wildcard, 'api.github.com', null), 'an unknown port does not match a port');
    assert.ok(!hostMatches(wildcard, 'github.com', 443));
    const exact = parseHostPattern('example.com')!;
    assert.ok(hostMatches(exact, 'example.com', 8080));
    assert.ok(!hostMatches(exact, 'www.example.com', 80));
    assert.ok(!hostMatches(parseHostPattern('localhost')!, '127.0.0.1', 80));
  });
});

describe('package selectors', () => {
  test('keys', () => {
    assert.deepEqual(parsePackageKey('esbuild'), { name: 'esbuild' });
    assert.deepEqual(parsePackageKey('esbuild@>=0.20'), { name: 'esbuild', range: '>=0.20' });
    assert.deepEqual(parsePackageKey('@scope/pkg'), { name: '@scope/pkg' });
    assert.deepEqual(parsePackageKey('@scope/pkg@^1.2.0 || 2'), { name: '@scope/pkg', range: '^1.2.0 || 2' });
    assert.deepEqual(parsePackageKey('JSONStream@1'), { name: 'JSONStream', range: '1' });
    for (const bad of ['esbuild@latest', 'esbuild@', '@scope', 'a b', '@scope/pkg@>=foo', 'a@1.2.3.4', '']) assert.equal(parsePackageKey(bad), null, bad);
  });

  test('exact versions', () => {
    assert.deepEqual(parsePackageVersion('sharp@0.33.5'), { name: 'sharp', version: '0.33.5' });
    assert.deepEqual(parsePackageVersion('@img/sharp@1.0.0-rc.1'), { name: '@img/sharp', version: '1.0.0-rc.1' });
    for (const bad of ['sharp', 'sharp@^0.33.5', 'sharp@0.33', 'sharp@v0.33.5', 'sharp@=0.33.5']) assert.equal(parsePackageVersion(bad), null, bad);
  });
});

describe('the policy schema', () => {
  test('names every rule id a policy may change, and no other', () => {
    const defs = (loadPolicySchema() as { $defs: { ruleId: { enum: string[] } } }).$defs;
    assert.deepEqual(defs.ruleId.enum, RULE_IDS.filter((id) => !LOCKED_RULES.includes(id)));
  });
});

describe('suggestAllow', () => {
  const pkg = { name: '@img/sharp', version: '0.33.5' };

  test('renders the YAML that allows the host for that exact version', () => {
    assert.equal(suggestAllow(pkg, 'Objects.GitHubUserContent.com.'), 'packages:\n  "@img/sharp@0.33.5":\n    allowEgress: ["objects.githubusercontent.com"]');
  });

  test('the snippet is a valid policy that drops the finding', async () => {
    const builder = new ChainBuilder();
    const script = builder.pkg('@img/sharp', '0.33.5').script('install', 'node install.js');
    script.connect(script.process(['node', 'install.js']), '192.0.2.10', 443, { hostname: 'objects.githubusercontent.com' });
    const chain = builder.build();
    const assessment = assess(chain);
    assert.equal(assessment.verdict, 'review');
    const policy = policyOf(await loadPolicy({ projectDir: folder({ 'safe-install.config.yaml': suggestAllow(pkg, 'objects.githubusercontent.com') }), userConfigDir: NO_USER }));
    assert.equal(applyPolicy(assessment, chain, policy).verdict, 'allow');
  });

  test('a git dependency (no semver version) is selected by name', () => {
    assert.match(suggestAllow({ name: 'x', version: 'github:a/x#abc' }, 'a.example'), /^ {2}"x":$/m);
  });

  test('an IP address cannot be allowed: the snippet says so as a YAML comment', () => {
    const text = suggestAllow(pkg, '192.0.2.1');
    assert.match(text, /^# 192\.0\.2\.1 cannot be allowed/);
    assert.equal(parseDocument(text).toJS(), null);
  });
});
