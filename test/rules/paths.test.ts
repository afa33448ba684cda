import { test } from 'node:test';
import assert from 'node:assert/strict';
import { areaOf, displayPath, isInside, isOwnWritablePath, isStdioLike, packageDirFor, sandboxPathsFor } from '../../src/rules/paths.js';
import { classifySecret } from '../../src/rules/secret-paths.js';
import { HOME, PROJECT } from './chain-builder.js';

const paths = sandboxPathsFor(PROJECT, 'node_modules/a');

test('isInside: prefix tests respect path boundaries and normalise ..', () => {
  assert.ok(isInside('/a/b', '/a/b'));
  assert.ok(isInside('/a/b/c', '/a/b/'));
  assert.ok(!isInside('/a/bc', '/a/b'));
  assert.ok(!isInside('/a/b/../c', '/a/b'));
  assert.ok(isInside('/anything', '/'));
});

test('packageDirFor: the root project has location ""', () => {
  assert.equal(packageDirFor(PROJECT, ''), PROJECT);
  assert.equal(packageDirFor(`${PROJECT}/`, 'node_modules/@s/p'), `${PROJECT}/node_modules/@s/p`);
});

test('displayPath: package-relative, then ~, then absolute', () => {
  assert.equal(displayPath(`${paths.packageDir}/build/x.json`, paths), 'build/x.json');
  assert.equal(displayPath(paths.packageDir, paths), '.');
  assert.equal(displayPath(`${HOME}/.npmrc`, paths), '~/.npmrc');
  assert.equal(displayPath('/etc/passwd', paths), '/etc/passwd');
});

test('stdio and own-writable paths', () => {
  for (const p of ['/dev/null', '/dev/tty', '/dev/stdout', '/proc/self/fd/2', '/dev/pts/0']) assert.ok(isStdioLike(p), p);
  assert.ok(!isStdioLike('/dev/sda'));
  assert.ok(isOwnWritablePath('/var/tmp/x', paths));
  assert.ok(!isOwnWritablePath(`${PROJECT}/node_modules/b/index.js`, paths));
});

test('areaOf: two components below home or root', () => {
  assert.equal(areaOf(`${HOME}/.config/foo/bar/baz`, HOME), '~/.config/foo');
  assert.equal(areaOf(`${HOME}/.bashrc`, HOME), '~/.bashrc');
  assert.equal(areaOf('/etc/cron.d/job', HOME), '/etc/cron.d');
});

test('classifySecret: first match wins; scopes are anchored', () => {
  assert.equal(classifySecret(`${HOME}/.ssh/known_hosts`, paths)?.location.severity, 'medium');
  assert.equal(classifySecret(`${HOME}/.ssh/deploy_key`, paths)?.location.severity, 'high');
  assert.equal(classifySecret(`${PROJECT}/.npmrc`, paths)?.location.label, 'npm credentials (project)');
  assert.equal(classifySecret(`${HOME}/.config/gh/hosts.yml`, paths)?.location.label, 'GitHub CLI token');
  assert.equal(classifySecret(`${HOME}/.kube/config`, paths)?.location.label, 'Kubernetes credentials');
  assert.equal(classifySecret('/proc/self/environ', paths)?.location.label, 'process environment');
  assert.equal(classifySecret(`${PROJECT}/node_modules/a/.env`, paths), undefined);
  assert.equal(classifySecret(`${PROJECT}/node_modules/other/.env`, paths)?.location.label, 'environment file');
  assert.equal(classifySecret('/srv/home/alex/.npmrc', paths), undefined);
  assert.equal(classifySecret(`${HOME}/.ssh`, paths), undefined);
});
