import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installScriptAddedRule } from '../../src/rules/install-script-added.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

test('install-script-added: a version adding a postinstall its previous version lacked is medium', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('popular-lib', '4.2.1');
  pkg.info.previousScripts = { install: 'node-gyp rebuild' };
  pkg.script('install', 'node-gyp rebuild');
  const post = pkg.script('postinstall', 'node setup.js');
  const findings = run(installScriptAddedRule, b.build());
  assert.deepEqual(findings, [
    {
      rule: 'install-script-added',
      severity: 'medium',
      message: 'adds install-time scripts its previous version did not have: postinstall: node setup.js',
      evidence: [post.run.id],
    },
  ]);
});

test('install-script-added: unchanged or changed scripts, a first release, or unknown history do not fire', () => {
  const b = new ChainBuilder();
  const same = b.pkg('same');
  same.info.previousScripts = { postinstall: 'node old.js' };
  same.script('postinstall', 'node new.js');
  const first = b.pkg('first');
  first.info.previousScripts = null;
  first.script('postinstall', 'node x.js');
  b.pkg('unknown').script('postinstall', 'node x.js');
  const removed = b.pkg('removed');
  removed.info.previousScripts = { preinstall: 'node x.js' };
  const chain = b.build();
  for (const { info } of chain.packages) assert.deepEqual(run(installScriptAddedRule, chain, info.location), [], info.name);
});
