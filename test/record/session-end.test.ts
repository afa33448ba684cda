/** What ends a session: who can be asked, and the one-line reason an agent reads on refusal. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInteractive, nonInteractiveByEnv, refusalReason } from '../../src/cli/session-end.js';
import { assess } from '../../src/rules/index.js';
import { buildScan } from '../report/fixture.js';

test('SAFE_INSTALL_NONINTERACTIVE=1 means nobody is asked, whatever the terminal', () => {
  assert.equal(nonInteractiveByEnv({ SAFE_INSTALL_NONINTERACTIVE: '1' }), true);
  assert.equal(nonInteractiveByEnv({ SAFE_INSTALL_NONINTERACTIVE: 'true' }), true);
  assert.equal(nonInteractiveByEnv({ SAFE_INSTALL_NONINTERACTIVE: '0' }), false);
  assert.equal(nonInteractiveByEnv({}), false);
  assert.equal(isInteractive({ SAFE_INSTALL_NONINTERACTIVE: '1' }), false);
});

test('the refusal reason names the verdict, the packages and their rules, in one line', () => {
  const { chain } = buildScan();
  const assessment = assess(chain);
  const reason = refusalReason(chain, assessment);
  assert.ok(!reason.includes('\n'));
  assert.match(reason, /^verdict BLOCK: /);
  assert.match(reason, /evil-helper@2\.1\.0: [a-z-]+(, [a-z-]+)*/);
  assert.ok(reason.includes('credential-access'), reason);
  assert.ok(!/native-addon@1\.4\.0: .*native-build/.test(reason), 'info findings are not reasons');
});
