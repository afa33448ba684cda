/**
 * Wheel inspection (the helper run by real python3, on a wheel zipped here) and the findings
 * it maps to. No sandbox: a wheel runs nothing at install time; what it installs is the risk.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runHelper } from '../../src/pip/python.js';
import { wheelFindings, type WheelInspection } from '../../src/pip/wheel-findings.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-wheel-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A wheel with these members (name → text), zipped by python's zipfile; nothing is run. */
function zipWheel(file: string, members: Record<string, string>): string {
  const out = path.join(tmp, file);
  const r = spawnSync('python3', ['-I', '-B', '-c', 'import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w")\nfor k, v in json.loads(sys.stdin.read()).items(): z.writestr(k, v)\nz.close()', out], { input: JSON.stringify(members), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

const META = (name: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`;

test('a plain wheel: no findings', async () => {
  const w = zipWheel('plain-1.0-py3-none-any.whl', { 'plain/__init__.py': '', 'plain-1.0.dist-info/METADATA': META('plain'), 'plain-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\n', 'paths.pth': 'plain_extra\n' });
  const got = await runHelper<WheelInspection>('python3', 'inspect', { wheel: w });
  assert.equal(got.name, 'plain');
  assert.equal(got.pth.length, 1);
  assert.equal(got.pth[0]!.execCount, 0, 'a .pth of paths only runs nothing');
  assert.deepEqual(wheelFindings(got, { name: 'plain', version: '1.0' }), []);
});

test('sitecustomize, a command shadowing pip, data into etc/, a member escaping with .., a native extension', async () => {
  const w = zipWheel('evil-1.0-py3-none-any.whl', {
    'evil/__init__.py': '',
    'evil/_x.cpython-311-x86_64-linux-gnu.so': 'ELF',
    'sitecustomize.py': 'import os\n',
    'hook.pth': '# comment\nimport evil\n',
    'evil-1.0.data/scripts/pip': '#!python\nprint(1)\n',
    'evil-1.0.data/data/etc/profile.d/evil.sh': 'echo\n',
    '../outside.py': 'x',
    'evil-1.0.dist-info/METADATA': META('evil'),
    'evil-1.0.dist-info/entry_points.txt': '[console_scripts]\nevil-cli = evil:main\n[other]\nx = y\n',
  });
  const got = await runHelper<WheelInspection>('python3', 'inspect', { wheel: w });
  const findings = wheelFindings(got, { name: 'evil', version: '1.0' });
  const has = (rule: string, severity: string, re: RegExp) => assert.ok(findings.some((f) => f.rule === rule && f.severity === severity && re.test(f.message)), `${rule}:${severity} ${re} in ${JSON.stringify(findings, null, 1)}`);
  has('persistence', 'high', /sitecustomize\.py/);
  has('persistence', 'high', /hook\.pth .*1 executable line.*import evil/);
  has('persistence', 'high', /command named pip/);
  has('write-outside-package', 'medium', /etc\/profile\.d\/evil\.sh/);
  has('write-outside-package', 'info', /evil-cli \(console script → evil:main\)/);
  has('tampering', 'critical', /\.\.\/outside\.py/);
  has('native-build', 'info', /evil\/_x\.cpython-311-x86_64-linux-gnu\.so/);
  assert.ok(!findings.some((f) => /x = y|\bx\b \(/.test(f.message)), 'entry points outside console/gui scripts are no commands');
});

test('versions compare as PEP 440 versions: 01.0 in METADATA is 1.0, no tampering', async () => {
  const w = zipWheel('padded-1.0-py3-none-any.whl', { 'padded/__init__.py': '', 'padded-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: Padded\nVersion: 01.0\n' });
  const got = await runHelper<WheelInspection>('python3', 'inspect', { wheel: w });
  assert.deepEqual([got.name, got.version], ['padded', '1.0']);
  assert.deepEqual(wheelFindings(got, { name: 'padded', version: '1.0' }), []);
});

test('a wheel whose metadata names another project than its file name is tampering', async () => {
  const w = zipWheel('innocent-1.0-py3-none-any.whl', { 'pip/__init__.py': '', 'pip-1.0.dist-info/METADATA': META('pip') });
  const got = await runHelper<WheelInspection>('python3', 'inspect', { wheel: w });
  const findings = wheelFindings(got, { name: 'innocent', version: '1.0' });
  assert.ok(findings.some((f) => f.rule === 'tampering' && f.severity === 'critical' && /file name says innocent but its metadata installs pip/.test(f.message)), JSON.stringify(findings));
});
