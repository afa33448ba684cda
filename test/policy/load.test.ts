/** Where policies are read from, how user and project combine, and the digest. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { defaultUserConfigDir, loadPolicy, policyOf } from '../../src/policy/index.js';
import { folder, lines, NO_USER, policyError } from './support.js';

const POLICY_YAML = lines(
  'failOn: review',
  'rules:',
  '  shell-spawn: off',
  'packages:',
  '  "esbuild@>=0.20":',
  '    allowEgress: ["registry.npmjs.org", "*.github.com:443"]',
  '    rules: { native-build: off }',
  'acknowledge:',
  '  - package: sharp@0.33.5',
  '    integrity: sha512-AAAA',
  '    rules: [network-egress]',
  '    reason: "downloads libvips from github, checked by @alice"',
);
const POLICY_OBJECT = {
  failOn: 'review',
  rules: { 'shell-spawn': 'off' },
  packages: { 'esbuild@>=0.20': { allowEgress: ['registry.npmjs.org', '*.github.com:443'], rules: { 'native-build': 'off' } } },
  acknowledge: [{ package: 'sharp@0.33.5', integrity: 'sha512-AAAA', rules: ['network-egress'], reason: 'downloads libvips from github, checked by @alice' }],
};

describe('loading the policy', () => {
  test('no policy anywhere: empty, no sources, a digest all the same', async () => {
    const loaded = await loadPolicy({ projectDir: folder({}), userConfigDir: NO_USER });
    assert.deepEqual(policyOf(loaded), {});
    assert.deepEqual(loaded.sources, []);
    assert.match(loaded.digest, /^[0-9a-f]{64}$/);
  });

  for (const name of ['safe-install.config.yaml', 'safe-install.config.yml']) {
    test(`project ${name}`, async () => {
      const dir = folder({ [name]: POLICY_YAML });
      const loaded = await loadPolicy({ projectDir: dir, userConfigDir: NO_USER });
      assert.deepEqual(policyOf(loaded), POLICY_OBJECT);
      assert.deepEqual(loaded.sources, [path.join(dir, name)]);
    });
  }

  test('project safe-install.config.json', async () => {
    const dir = folder({ 'safe-install.config.json': JSON.stringify({ $schema: '../schema/policy-v1.schema.json', ...POLICY_OBJECT }, null, 2) });
    const loaded = await loadPolicy({ projectDir: dir, userConfigDir: NO_USER });
    assert.deepEqual(policyOf(loaded), POLICY_OBJECT, '$schema is for editors and dropped');
  });

  test('the safeInstall key of package.json', async () => {
    const dir = folder({ 'package.json': JSON.stringify({ name: 'app', version: '1.0.0', safeInstall: POLICY_OBJECT }, null, 2) });
    const loaded = await loadPolicy({ projectDir: dir, userConfigDir: NO_USER });
    assert.deepEqual(policyOf(loaded), POLICY_OBJECT);
    assert.deepEqual(loaded.sources, [path.join(dir, 'package.json')]);
  });

  test('a package.json without the key, even a broken one, is no policy', async () => {
    assert.deepEqual((await loadPolicy({ projectDir: folder({ 'package.json': '{"name": "app"}' }), userConfigDir: NO_USER })).sources, []);
    assert.deepEqual((await loadPolicy({ projectDir: folder({ 'package.json': '{"name": ' }), userConfigDir: NO_USER })).sources, []);
  });

  test('the first file found wins, and the others are named in a warning', async () => {
    const dir = folder({
      'safe-install.config.yml': lines('failOn: review'),
      'safe-install.config.json': '{"failOn": "block"}',
      'package.json': JSON.stringify({ name: 'app', safeInstall: { failOn: 'block' } }),
    });
    const loaded = await loadPolicy({ projectDir: dir, userConfigDir: NO_USER });
    assert.equal(loaded.failOn, 'review');
    assert.deepEqual(loaded.sources, [path.join(dir, 'safe-install.config.yml')]);
    assert.equal(loaded.warnings.length, 2);
    assert.match(loaded.warnings[0]!, /safe-install\.config\.json is ignored: .*safe-install\.config\.yml comes first/);
    assert.match(loaded.warnings[1]!, /safeInstall key of .*package\.json is ignored/);
  });

  test('an empty YAML file is an empty policy', async () => {
    const loaded = await loadPolicy({ projectDir: folder({ 'safe-install.config.yaml': '# nothing yet\n' }), userConfigDir: NO_USER });
    assert.deepEqual(policyOf(loaded), {});
    assert.equal(loaded.sources.length, 1);
  });

  test('user and project merge: mappings by key, lists add up, the project wins on a value', async () => {
    const user = folder({
      'config.yaml': lines(
        'failOn: review',
        'rules: { shell-spawn: off, recon: low }',
        'packages:',
        '  esbuild: { allowEgress: [registry.npmjs.org], rules: { native-build: off } }',
        '  sharp: { allowEgress: ["*.github.com"] }',
        'acknowledge:',
        '  - { package: a@1.0.0, integrity: sha512-AAAA, reason: user }',
      ),
    });
    const project = folder({
      'safe-install.config.yaml': lines(
        'failOn: block',
        'rules: { recon: medium }',
        'packages:',
        '  esbuild: { allowEgress: [cdn.example.com] }',
        'acknowledge:',
        '  - { package: b@2.0.0, integrity: sha512-BBBB, reason: project }',
      ),
    });
    const loaded = await loadPolicy({ projectDir: project, userConfigDir: user });
    assert.deepEqual(policyOf(loaded), {
      failOn: 'block',
      rules: { 'shell-spawn': 'off', recon: 'medium' },
      packages: {
        esbuild: { allowEgress: ['registry.npmjs.org', 'cdn.example.com'], rules: { 'native-build': 'off' } },
        sharp: { allowEgress: ['*.github.com'] },
      },
      acknowledge: [
        { package: 'a@1.0.0', integrity: 'sha512-AAAA', reason: 'user' },
        { package: 'b@2.0.0', integrity: 'sha512-BBBB', reason: 'project' },
      ],
    });
    assert.deepEqual(loaded.sources, [path.join(user, 'config.yaml'), path.join(project, 'safe-install.config.yaml')]);
  });

  test('--policy replaces the project policy, the user policy stays', async () => {
    const user = folder({ 'config.json': '{"rules": {"recon": "low"}}' });
    const project = folder({ 'safe-install.config.yaml': lines('failOn: block', 'rules: { shell-spawn: off }') });
    const other = folder({ 'ci.yaml': lines('failOn: review') });
    const loaded = await loadPolicy({ projectDir: project, userConfigDir: user, policyFile: path.join(other, 'ci.yaml') });
    assert.deepEqual(policyOf(loaded), { rules: { recon: 'low' }, failOn: 'review' });
    assert.deepEqual(loaded.sources, [path.join(user, 'config.json'), path.join(other, 'ci.yaml')]);
  });

  test('--policy may name a package.json', async () => {
    const dir = folder({ 'package.json': JSON.stringify({ name: 'x', safeInstall: { failOn: 'review' } }) });
    assert.equal((await loadPolicy({ policyFile: path.join(dir, 'package.json'), userConfigDir: NO_USER })).failOn, 'review');
    const bare = folder({ 'package.json': JSON.stringify({ name: 'x' }) });
    const err = await policyError(loadPolicy({ policyFile: path.join(bare, 'package.json'), userConfigDir: NO_USER }));
    assert.match(err.message, /has no safeInstall key/);
  });

  test('a missing --policy file is an error, not an empty policy', async () => {
    const err = await policyError(loadPolicy({ policyFile: '/nonexistent/policy.yaml', userConfigDir: NO_USER }));
    assert.equal(err.code, 'E_POLICY');
    assert.match(err.message, /policy file \/nonexistent\/policy\.yaml does not exist/);
  });

  test('the user config dir follows XDG_CONFIG_HOME, ignoring a relative one', () => {
    assert.equal(defaultUserConfigDir({ XDG_CONFIG_HOME: '/cfg' }), path.join('/cfg', 'safe-install'));
    assert.match(defaultUserConfigDir({ XDG_CONFIG_HOME: 'relative' }), /\.config\/safe-install$/);
    assert.match(defaultUserConfigDir({}), /\.config\/safe-install$/);
  });

  test('host patterns are compared lowercase', async () => {
    const loaded = await loadPolicy({ projectDir: folder({ 'safe-install.config.yaml': lines('packages:', '  a: { allowEgress: [Registry.NPMjs.org] }') }), userConfigDir: NO_USER });
    assert.deepEqual(loaded.packages, { a: { allowEgress: ['registry.npmjs.org'] } });
  });
});

describe('policy digest', () => {
  test('the same policy in YAML and JSON, keys in any order, has the same digest', async () => {
    const yaml = await loadPolicy({ projectDir: folder({ 'safe-install.config.yaml': POLICY_YAML }), userConfigDir: NO_USER });
    const reordered = { acknowledge: POLICY_OBJECT.acknowledge, packages: POLICY_OBJECT.packages, rules: POLICY_OBJECT.rules, failOn: POLICY_OBJECT.failOn };
    const json = await loadPolicy({ projectDir: folder({ 'safe-install.config.json': JSON.stringify(reordered) }), userConfigDir: NO_USER });
    const manifest = await loadPolicy({ projectDir: folder({ 'package.json': JSON.stringify({ name: 'a', safeInstall: POLICY_OBJECT }) }), userConfigDir: NO_USER });
    assert.equal(yaml.digest, json.digest);
    assert.equal(yaml.digest, manifest.digest);
  });

  test('a different value gives a different digest', async () => {
    const base = await loadPolicy({ projectDir: folder({ 'safe-install.config.yaml': POLICY_YAML }), userConfigDir: NO_USER });
    const changed = await loadPolicy({ projectDir: folder({ 'safe-install.config.yaml': POLICY_YAML.replace('sha512-AAAA', 'sha512-AAAB') }), userConfigDir: NO_USER });
    const empty = await loadPolicy({ projectDir: folder({}), userConfigDir: NO_USER });
    assert.notEqual(base.digest, changed.digest);
    assert.notEqual(base.digest, empty.digest);
  });

  test('the digest covers the merged policy: a user file counts', async () => {
    const project = folder({ 'safe-install.config.yaml': POLICY_YAML });
    const alone = await loadPolicy({ projectDir: project, userConfigDir: NO_USER });
    const user = folder({ 'config.yaml': lines('rules: { recon: low }') });
    const merged = await loadPolicy({ projectDir: project, userConfigDir: user });
    assert.notEqual(alone.digest, merged.digest);
    assert.ok(!fs.existsSync(NO_USER), 'tests must not create the placeholder user dir');
  });
});
