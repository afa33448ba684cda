/**
 * action.yml: the composite action's gate step, run as GitHub would run it (its script, its
 * env mapping, $GITHUB_ACTION_PATH and $GITHUB_OUTPUT), on a repository whose lockfile did not
 * change. The SARIF upload and the final step are GitHub's and checked for shape only.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { packageRoot } from '../../src/package-root.js';

interface Step {
  id?: string;
  uses?: string;
  if?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
const root = packageRoot().dir;
const action = parse(fs.readFileSync(path.join(root, 'action.yml'), 'utf8')) as { runs: { using: string; steps: Step[] }; inputs: Record<string, { default?: string }> };
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'si-action-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('action.yml: composite; gate, SARIF upload even on failure, then the exit code', () => {
  assert.equal(action.runs.using, 'composite');
  const steps = action.runs.steps;
  const gate = steps.find((s) => s.id === 'gate')!;
  assert.ok(gate.run && !/\$\{\{/.test(gate.run), 'inputs reach the script only through env, never spliced into it');
  const upload = steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'))!;
  assert.match(upload.if!, /always\(\)/);
  assert.match(upload.if!, /steps\.gate\.outputs\.sarif == 'true'/, 'only when the gate wrote one');
  assert.equal(steps[steps.length - 1]!.if, 'always()', 'the exit code is enforced even after a failed upload');
  assert.equal(upload.with!.category, 'safe-install');
  assert.ok(steps.indexOf(upload) > steps.indexOf(gate) && steps.indexOf(upload) < steps.length - 1, 'the last step fails the job, after the upload');
  const check = spawnSync('bash', ['-n'], { input: steps.map((s) => s.run ?? '').join('\n') });
  assert.equal(check.status, 0, check.stderr.toString());
});

test('action.yml: the gate step on an unchanged lockfile writes SARIF and outputs verdict=allow, exit-code=0', () => {
  const repo = path.join(work, 'repo');
  fs.mkdirSync(repo);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' } });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/a': { version: '1.0.0', integrity: 'sha512-a' } } }, null, 2));
  git('add', '.');
  git('commit', '-q', '-m', 'one');
  git('commit', '-q', '--allow-empty', '-m', 'two');
  const gate = action.runs.steps.find((s) => s.id === 'gate')!;
  const output = path.join(work, 'output');
  const summary = path.join(work, 'summary.md');
  const inputs = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? '']));
  // The env mapping with the inputs' defaults, as the runner would evaluate it.
  const env = Object.fromEntries(Object.entries(gate.env!).map(([k, v]) => [k, v.replace(/\$\{\{ inputs\.([a-z-]+) \}\}/g, (_m, name: string) => inputs[name] ?? '')]));
  const r = spawnSync('bash', ['-c', gate.run!], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, ...env, GITHUB_ACTION_PATH: root, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /No added or changed packages in package-lock\.json since HEAD~1/);
  assert.deepEqual(fs.readFileSync(output, 'utf8').trim().split('\n'), ['exit-code=0', 'verdict=allow', 'sarif=true']);
  const sarif = JSON.parse(fs.readFileSync(path.join(repo, 'safe-install.sarif'), 'utf8')) as { version: string };
  assert.equal(sarif.version, '2.1.0');
  assert.match(fs.readFileSync(summary, 'utf8'), /safe-install: ALLOW/);
});
