import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assess } from '../../src/rules/index.js';
import { buildJsonReport } from '../../src/report/json.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { ChainBuilder, HOME } from '../rules/chain-builder.js';

test('terminal: escape sequences and carriage returns from a package are shown, never obeyed', () => {
  const b = new ChainBuilder();
  // Would clear the screen, return to column 0 and repaint the line as harmless.
  const evil = '\u001b[2J\r\u001b[32mALLOW\u001b[0m';
  const s = b.pkg('evil', '1.0.0').script('postinstall', `node -e x${evil}`);
  const p = s.process(['node', `arg${evil}`], { exe: '/usr/bin/node' });
  s.file(p, 'read', `${HOME}/.npmrc${evil}`);
  s.file(p, 'read', `${HOME}/.npmrc`);
  const chain = b.build();
  const report = buildJsonReport({ chain, assessment: assess(chain), tool: { name: 'safe-install', version: '0' } });
  for (const color of [false, true]) {
    const text = renderTerminal(report, { color, verbose: true, width: 400 });
    assert.ok(!text.includes('\r'), 'no carriage return');
    assert.ok(!text.includes('\u001b[2J'), 'no raw escape from the package');
    assert.match(text, /\\x1b\[2J\\x0d/);
  }
  assert.ok(!renderTerminal(report, { color: false, verbose: true, width: 400 }).includes('\u001b'), 'without colour, no escape at all');
  assert.equal(report.packages[0]!.scripts.postinstall, `node -e x${evil}`, 'the report itself is not modified');
});
