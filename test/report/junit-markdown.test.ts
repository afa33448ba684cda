import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { bySeverity } from '../../src/rules/verdict.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { escapeMarkdown } from '../../src/report/escape.js';
import { ciResult } from './ci-fixture.js';

const fails = (verdict: string) => verdict !== 'allow';

/** A real XML parser (python's expat), not a regex: the file must be well-formed. */
function parseXml(xml: string): { ok: boolean; out: string } {
  const py = 'import sys,xml.dom.minidom as m; d=m.parseString(sys.stdin.buffer.read()); print(len(d.getElementsByTagName("testcase")), len(d.getElementsByTagName("failure")))';
  const r = spawnSync('python3', ['-c', py], { input: xml, encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout.trim() || r.stderr };
}

test('JUnit: one failing test case per blocked package, with the findings and the lockfile line', () => {
  const xml = renderJunit(ciResult(), { fails });
  assert.deepEqual(parseXml(xml), { ok: true, out: '1 1' });
  assert.match(xml, /<testcase classname="package-lock\.json" name="popular-lib@1\.0\.1" file="package-lock\.json" line="42"/);
  const worst = bySeverity(ciResult().report!.packages[0]!.findings)[0]!;
  assert.equal(worst.severity, 'high');
  assert.ok(xml.includes(`<failure type="block" message="block: ${worst.rule}: `), 'the failure message names the most severe finding');
  assert.match(xml, /install-script-added: adds install-time scripts/);
  assert.match(xml, /at package-lock\.json:42/);
});

test('JUnit: hostile text stays well-formed XML', () => {
  const result = ciResult();
  const finding = result.report!.packages[0]!.findings[0]!;
  finding.message = 'reads </failure><injected/> & "quotes" \u0001\u001b[31m';
  const xml = renderJunit(result, { fails });
  assert.equal(parseXml(xml).ok, true, parseXml(xml).out);
  assert.ok(!xml.includes('<injected/>'));
});

test('Markdown: verdict, then what is new, then findings with the lockfile line', () => {
  const md = renderMarkdown(ciResult(), { failing: true });
  const lines = md.split('\n');
  assert.equal(lines[0], '## ⛔ safe-install: BLOCK (fails this check)');
  const news = md.indexOf('### New behaviour since the base version');
  const findings = md.indexOf('### Findings');
  assert.ok(news > 0 && findings > news, 'the behaviour diff comes before the findings');
  assert.match(md, /started reading \\~\/\\\.npmrc, calling a new host \\\(telemetry\\\.example\\\)/);
  assert.match(md, /`credential-access`/);
  assert.match(md, /`install-script-added`/);
  assert.match(md, /package\\-lock\\\.json\\:42/);
});

test('Markdown: attacker text cannot add markup, links, HTML or mentions', () => {
  const hostile = '<img src=x onerror=alert(1)> [click](https://evil.example) @maintainer `code` |cell|\n# heading';
  const escaped = escapeMarkdown(hostile);
  assert.ok(!/[<>\n]/.test(escaped), escaped);
  assert.ok(!/(^|[^\\])[[\]`|@#]/.test(escaped), escaped);
  const result = ciResult();
  result.report!.packages[0]!.findings[0]!.message = hostile;
  const md = renderMarkdown(result, { failing: true });
  assert.ok(!md.includes('<img'), 'no raw HTML');
  assert.ok(!md.includes('](https'), 'no link');
});
