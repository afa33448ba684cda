/**
 * Provenance from real processes: a program named like an agent starts node, and node must
 * find it among its parents; variables, CI and git are read from a real environment and repo.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collectProvenance, detectCi, parseAgentList, processChain, shellQuote, type Provenance } from '../../src/provenance/index.js';
import { redactRemote } from '../../src/provenance/git.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-prov-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'probe.js');

/** Run the probe (which prints collectProvenance()) under a launcher script called `name`. */
function underLauncher(name: string, env: Record<string, string> = {}, cwd = tmp): Provenance {
  const dir = fs.mkdtempSync(path.join(tmp, 'bin-'));
  const launcher = path.join(dir, name);
  // A real process named `name` stays the parent (no exec), as an agent's CLI does.
  fs.writeFileSync(launcher, `#!/bin/sh\n"${process.execPath}" "${probe}" "$@"\nexit $?\n`, { mode: 0o755 });
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CLAUDE|CODEX|CURSOR|GEMINI|COPILOT|AIDER|WINDSURF|CLINE|AMP|OPENCODE|GOOSE|DEVIN|GITHUB_|GITLAB|CI$|CIRCLE|BUILDKITE|JENKINS|TF_BUILD|SAFE_INSTALL_)/.test(k)));
  const out = execFileSync(launcher, ['install', 'left pad'], { cwd, env: { ...clean, XDG_CONFIG_HOME: path.join(tmp, 'no-config'), ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out) as Provenance;
}

describe('provenance', () => {
  test('the process chain reaches pid 1 through our real parents', () => {
    const chain = processChain();
    assert.equal(chain[0]!.pid, process.pid);
    assert.equal(chain[0]!.ppid, process.ppid);
    assert.deepEqual(chain[0]!.argv, process.argv.slice(0, chain[0]!.argv.length));
    assert.ok(chain.length >= 2);
    assert.equal(chain.at(-1)!.pid, 1);
  });

  test('an agent process among the parents is found, with the exact command line', () => {
    const p = underLauncher('claude');
    assert.equal(p.initiator, 'agent');
    assert.deepEqual(p.agents.map((a) => a.id), ['claude-code']);
    assert.match(p.agents[0]!.evidence[0]!, /^process:\d+ claude$/);
    const launcher = p.processChain[1]!;
    assert.ok(launcher.argv.some((a) => a.endsWith('/claude')), JSON.stringify(launcher));
    assert.deepEqual(p.command.argv.slice(-2), ['install', 'left pad']);
    assert.match(p.command.line, / install 'left pad'$/);
    assert.equal(p.interactive, false);
    assert.equal(p.cwd, fs.realpathSync(tmp));
  });

  test('agents by environment; values are never copied', () => {
    const p = underLauncher('plain-shell', { CLAUDECODE: '1', CURSOR_AGENT: 'secret-session-value' });
    assert.deepEqual(p.agents.map((a) => a.id).sort(), ['claude-code', 'cursor']);
    assert.ok(!JSON.stringify(p).includes('secret-session-value'));
  });

  test('no agent, no CI, no TTY: unknown, not human', () => {
    const p = underLauncher('plain-shell');
    assert.deepEqual(p.agents, []);
    assert.equal(p.ci, null);
    assert.equal(p.initiator, 'unknown');
  });

  test('SAFE_INSTALL_AGENTS adds in-house agents by process name or variable', () => {
    assert.deepEqual(parseAgentList(' robo , env:ROBO_SESSION,,'), [
      { id: 'custom:robo', name: 'robo', env: [], processes: ['robo'] },
      { id: 'custom:ROBO_SESSION', name: 'ROBO_SESSION', env: ['ROBO_SESSION'], processes: [] },
    ]);
    const byName = underLauncher('robo', { SAFE_INSTALL_AGENTS: 'robo' });
    assert.deepEqual(byName.agents.map((a) => a.id), ['custom:robo']);
    const byEnv = underLauncher('plain-shell', { SAFE_INSTALL_AGENTS: 'env:ROBO_SESSION', ROBO_SESSION: 'x' });
    assert.deepEqual(byEnv.agents.map((a) => a.id), ['custom:ROBO_SESSION']);
  });

  test('the user agents file adds agents the same way', () => {
    const config = fs.mkdtempSync(path.join(tmp, 'config-'));
    fs.mkdirSync(path.join(config, 'safe-install'));
    fs.writeFileSync(path.join(config, 'safe-install', 'agents'), '# our tools\nbuildbot   # the CI helper\nenv:BUILDBOT_RUN\n');
    const byName = underLauncher('buildbot', { XDG_CONFIG_HOME: config });
    assert.deepEqual(byName.agents.map((a) => a.id), ['custom:buildbot']);
    const byEnv = underLauncher('plain-shell', { XDG_CONFIG_HOME: config, BUILDBOT_RUN: '1' });
    assert.deepEqual(byEnv.agents.map((a) => a.id), ['custom:BUILDBOT_RUN']);
    assert.deepEqual(underLauncher('buildbot', { XDG_CONFIG_HOME: path.join(tmp, 'no-config') }).agents, []);
  });

  test('CI providers and their run ids', () => {
    assert.deepEqual(detectCi({ GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '42', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'o/r', GITHUB_JOB: 'test' }), {
      provider: 'github-actions', runId: '42', url: 'https://github.com/o/r/actions/runs/42', job: 'test',
    });
    assert.equal(detectCi({ GITLAB_CI: 'true', CI_PIPELINE_ID: '7' })!.runId, '7');
    assert.equal(detectCi({ CIRCLECI: 'true', CIRCLE_WORKFLOW_ID: 'wf' })!.provider, 'circleci');
    assert.equal(detectCi({ JENKINS_URL: 'http://j', BUILD_ID: '9' })!.runId, '9');
    assert.equal(detectCi({ BUILDKITE: 'true', BUILDKITE_BUILD_ID: 'b' })!.provider, 'buildkite');
    assert.equal(detectCi({ TF_BUILD: 'True', BUILD_BUILDID: '3' })!.provider, 'azure-pipelines');
    assert.equal(detectCi({ CI: 'true' })!.provider, 'unknown');
    assert.equal(detectCi({}), null);
    const p = underLauncher('plain-shell', { GITLAB_CI: 'true', CI_PIPELINE_ID: '77' });
    assert.equal(p.initiator, 'ci');
    assert.equal(p.ci!.runId, '77');
  });

  test('git remote (credentials stripped) and HEAD from a real repository; none outside one', () => {
    const repo = fs.mkdtempSync(path.join(tmp, 'repo-'));
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t.example', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t.example' } }).trim();
    git('init', '-q', '-b', 'main');
    git('remote', 'add', 'origin', 'https://x-access-token:ghp_SECRET@github.example/o/r.git');
    fs.writeFileSync(path.join(repo, 'f'), 'x');
    git('add', 'f');
    git('commit', '-q', '-m', 'c');
    const head = git('rev-parse', 'HEAD');
    const p = collectProvenance({ cwd: repo, tty: { stdin: true, stdout: true, stderr: true }, env: {} });
    assert.deepEqual(p.git, { root: fs.realpathSync(repo), remote: 'https://github.example/o/r.git', head, branch: 'main' });
    assert.ok(!JSON.stringify(p).includes('ghp_SECRET'));
    assert.equal(p.initiator, 'human');
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'si-nogit-'));
    try {
      assert.equal(collectProvenance({ cwd: outside, env: {} }).git, null);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
    assert.equal(redactRemote('git@github.example:o/r.git'), 'git@github.example:o/r.git');
  });

  test('the shim that routed the command is recorded', () => {
    const p = collectProvenance({ env: { SAFE_INSTALL_SHIM: 'npm', SAFE_INSTALL_REAL_BIN: '/usr/bin/npm' } });
    assert.deepEqual(p.shim, { tool: 'npm', realBinary: '/usr/bin/npm' });
  });

  test('command lines are quoted only where a shell needs it', () => {
    assert.equal(['npm', 'i', '@scope/pkg@^1.2', "it's", ''].map(shellQuote).join(' '), `npm i '@scope/pkg@^1.2' 'it'\\''s' ''`);
    assert.equal(spawnSync('sh', ['-c', `printf '%s|' ${["it's", 'a b'].map(shellQuote).join(' ')}`], { encoding: 'utf8' }).stdout, "it's|a b|");
  });
});
