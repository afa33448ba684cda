import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialAccessRule } from '../../src/rules/credential-access.js';
import { ChainBuilder, HOME, PROJECT } from './chain-builder.js';
import { run } from './helpers.js';

test('credential-access: reading secrets is high, ~/.npmrc medium (it is also npm config), one finding per file', () => {
  const b = new ChainBuilder();
  const s = b.pkg('stealer').script('postinstall', 'node index.js');
  const npmrc1 = s.file(s.root, 'read', `${HOME}/.npmrc`);
  const npmrc2 = s.file(s.root, 'read', `${HOME}/.npmrc`);
  const key = s.file(s.root, 'read', `${HOME}/.ssh/id_ed25519`);
  const aws = s.file(s.root, 'read', `${HOME}/.aws/credentials`);
  const env = s.file(s.root, 'read', `${PROJECT}/.env.local`);
  const environ = s.file(s.root, 'read', '/proc/1/environ');
  const findings = run(credentialAccessRule, b.build());
  assert.deepEqual(
    findings.map((f) => [f.severity, f.evidence]),
    [
      ['medium', [npmrc1.id, npmrc2.id]],
      ['high', [key.id]],
      ['high', [aws.id]],
      ['high', [env.id]],
      ['high', [environ.id]],
    ],
  );
  assert.equal(findings[0]?.message, 'reads ~/.npmrc (npm credentials)');
  assert.equal(findings[3]?.message, 'reads ~/code/webapp/.env.local (environment file)');
});

test('credential-access: a failed read is medium (it tried); known_hosts is medium', () => {
  const b = new ChainBuilder();
  const s = b.pkg('prober').script('preinstall', 'node index.js');
  const missing = s.file(s.root, 'read', `${HOME}/.git-credentials`, { result: 'ENOENT' });
  const hosts = s.file(s.root, 'read', `${HOME}/.ssh/known_hosts`);
  const findings = run(credentialAccessRule, b.build());
  assert.deepEqual(findings.map((f) => [f.severity, f.evidence, f.message]), [
    ['medium', [missing.id], 'tries to read ~/.git-credentials (git credentials): ENOENT'],
    ['medium', [hosts.id], 'reads ~/.ssh/known_hosts (SSH host list)'],
  ]);
});

test('credential-access: look-alikes do not fire (own .env, templates, probes, writes, unrelated dotfiles)', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('benign');
  const s = pkg.script('postinstall', 'node install.js');
  s.file(s.root, 'read', `${pkg.dir}/.env`);
  s.file(s.root, 'read', `${pkg.dir}/.npmrc`);
  s.file(s.root, 'read', `${PROJECT}/.env.example`);
  s.file(s.root, 'probe', `${HOME}/.npmrc`, { syscall: 'newfstatat' });
  s.file(s.root, 'write', `${HOME}/.npm/_logs/debug.log`);
  s.file(s.root, 'read', `${HOME}/.npm/_cacache/index-v5/aa/bb`);
  s.file(s.root, 'read', `${HOME}/.envrc`);
  s.file(s.root, 'read', '/proc/self/status');
  s.file(s.root, 'read', `${HOME}/.sshrc`);
  assert.deepEqual(run(credentialAccessRule, b.build()), []);
});

test("credential-access: npm reading its own config for `npm run` is not the package's doing", () => {
  const b = new ChainBuilder();
  const s = b.pkg('runs-npm').script('postinstall', 'npm run build');
  const npm = s.process(['npm', 'run', 'build'], { exe: '/usr/local/bin/npm' });
  s.exec(npm, ['node', '/usr/local/bin/npm', 'run', 'build'], '/usr/local/bin/node');
  s.file(npm, 'read', `${HOME}/.npmrc`);
  s.file(npm, 'read', `${PROJECT}/.npmrc`, { result: 'ENOENT' });
  const cli = s.process(['node', '/usr/local/lib/node_modules/npm/bin/npm-cli.js', 'test'], { exe: '/usr/local/bin/node' });
  s.file(cli, 'read', `${HOME}/.npmrc`);
  assert.deepEqual(run(credentialAccessRule, b.build()), []);
});

test('credential-access: …but it is when npm prints credentials, a look-alike reads them, or data leaves after', () => {
  const cases: { argv: string[]; egress?: boolean }[] = [
    { argv: ['node', '/usr/local/bin/npm', 'config', 'get', '//registry.npmjs.org/:_authToken'] },
    { argv: ['node', `${PROJECT}/node_modules/evil/npm-cli.js`, 'run', 'x'] },
    { argv: ['node', 'node_modules/npm/bin/npm-cli.js', 'run', 'x'] },
    { argv: ['node', '/usr/local/bin/npm', 'run', 'build'], egress: true },
  ];
  for (const { argv, egress } of cases) {
    const b = new ChainBuilder();
    const s = b.pkg('x').script('postinstall', 'npm run build');
    const npm = s.process(argv, { exe: '/usr/local/bin/node' });
    const read = s.file(npm, 'read', `${HOME}/.npmrc`);
    if (egress) s.connect(s.root, '192.0.2.1', 443, { result: 'ok' });
    assert.deepEqual(run(credentialAccessRule, b.build()).map((f) => f.evidence), [[read.id]], argv.join(' '));
  }
});
