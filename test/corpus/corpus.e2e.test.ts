/**
 * The detection corpus, end to end: every `attack-*` fixture (an inert replica of a real
 * install-time attack) and every `benign-*` fixture (a real-world pattern that must not be
 * flagged) is served by one local registry and scanned on its own through the real sandbox.
 *
 * What each fixture must produce is written in its own package.json, under `safeInstallFixture`:
 *   attacks: { "expect": "block", "rules": [<rule ids that MUST be among its own findings>], "graceMs"? }
 *   benign:  { "expect": "allow" | "review", "maxSeverity": "info" | "low" | "medium" }
 * For a benign fixture `expect` is the worst acceptable verdict (a `review` fixture that a policy
 * allows passes too) and no package of its tree may have a finding more severe than maxSeverity.
 *
 * Expectations describe the behaviour, not what the current rules happen to report: a failing
 * case here is a detection gap (or a false positive) to fix in the rules, decoys or sandbox.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scan, type ScanResult } from '../../src/pipeline/scan.js';
import { packageRoot } from '../../src/package-root.js';
import { RULE_IDS, SEVERITIES, type Severity, type Verdict } from '../../src/rules/types.js';
import { connectDocker } from '../../src/sandbox/docker.js';
import { ensureSandboxImage } from '../../src/sandbox/image/index.js';
import type { PlanLimits } from '../../src/sandbox/plan.js';
import { startLocalRegistry } from '../helpers/local-registry.js';

const fixturesDir = path.join(packageRoot().dir, 'fixtures', 'npm', '@fixtures');

interface Expectation {
  expect: Verdict;
  /** Attacks: rule ids that must all be among the fixture package's own findings. */
  rules?: string[];
  /** Benign: no finding anywhere in the tree more severe than this. */
  maxSeverity?: Severity;
  /** How long processes may outlive their script (delayed payloads). */
  graceMs?: number;
  scriptTimeoutMs?: number;
}

interface Fixture {
  name: string;
  dir: string;
  kind: 'attack' | 'benign';
  manifest: Record<string, unknown> & { description?: string; safeInstallFixture?: Expectation };
  expectation: Expectation;
}

const SCAN_TEST_TIMEOUT_MS = 300_000;
const VERDICT_RANK: Record<Verdict, number> = { allow: 0, review: 1, block: 2 };

function loadCorpus(): Fixture[] {
  return fs
    .readdirSync(fixturesDir)
    .filter((name) => /^(attack|benign)-/.test(name))
    .sort()
    .map((name) => {
      const dir = path.join(fixturesDir, name);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Fixture['manifest'];
      return {
        name,
        dir,
        kind: name.startsWith('attack-') ? 'attack' : 'benign',
        manifest,
        expectation: manifest.safeInstallFixture as Expectation,
      };
    });
}

const corpus = loadCorpus();
const attacks = corpus.filter((f) => f.kind === 'attack');
const benign = corpus.filter((f) => f.kind === 'benign');

/** Everything a reader needs when an expectation fails: verdicts, findings, what the scripts did. */
function describeResult(result: ScanResult): string {
  const lines = [`overall verdict: ${result.assessment.verdict}`];
  for (const { info, session } of result.chain.packages) {
    const assessed = result.assessment.packages.find((p) => p.location === info.location);
    lines.push(`${info.name}@${info.version}: ${assessed?.verdict ?? '(not assessed)'}`);
    for (const f of assessed?.findings ?? []) {
      lines.push(`  ${f.severity.padEnd(8)} ${f.rule.padEnd(22)} ${f.message}  [${f.evidence.slice(0, 8).join(', ')}]`);
    }
    for (const s of session.scripts) {
      lines.push(`  ${s.event}: ${s.command.slice(0, 120)}  → ${s.outcome} (exit ${s.exitCode ?? s.signal})${s.reason ? `: ${s.reason}` : ''}`);
      if (s.stdout.head.trim()) lines.push(`    stdout: ${s.stdout.head.trim().slice(0, 400).replace(/\n/g, '\n            ')}`);
      if (s.stderr.head.trim()) lines.push(`    stderr: ${s.stderr.head.trim().slice(-400).replace(/\n/g, '\n            ')}`);
    }
    const procs = session.processes.map((p) => p.argv.join(' ').slice(0, 100));
    if (procs.length > 0) lines.push(`  processes: ${procs.slice(0, 12).join(' | ')}${procs.length > 12 ? ` (+${procs.length - 12})` : ''}`);
    const egress = session.connections.filter((c) => c.family === 'inet' || c.family === 'inet6');
    if (egress.length > 0) {
      lines.push(`  network: ${egress.slice(0, 8).map((c) => `${c.hostname ?? c.address}:${c.port} ${c.result}`).join(', ')}`);
    }
    if (session.dns.length > 0) lines.push(`  dns: ${session.dns.slice(0, 8).map((d) => d.name).join(', ')}`);
  }
  for (const e of result.chain.errors) lines.push(`sandbox error: ${e.message}`);
  return lines.join('\n');
}

function ownFindings(result: ScanResult, name: string) {
  const entry = result.chain.packages.find((p) => p.info.name === `@fixtures/${name}`);
  assert.ok(entry, `@fixtures/${name} is in the chain`);
  const assessed = result.assessment.packages.find((p) => p.location === entry.info.location);
  assert.ok(assessed, `@fixtures/${name} is assessed`);
  return assessed;
}

describe('detection corpus: fixtures are well-formed and inert', () => {
  test('there are at least 15 attack replicas and 10 benign patterns', () => {
    assert.ok(attacks.length >= 15, `${attacks.length} attack fixtures`);
    assert.ok(benign.length >= 10, `${benign.length} benign fixtures`);
  });

  for (const f of corpus) {
    test(`${f.name} declares what it must produce`, () => {
      const e = f.expectation;
      assert.ok(e && typeof e === 'object', 'package.json has safeInstallFixture');
      assert.equal(f.manifest.name, `@fixtures/${f.name}`);
      assert.equal(f.manifest.version, '1.0.0');
      assert.ok((f.manifest.description ?? '').length > 40, 'the description says what it imitates');
      if (f.kind === 'attack') {
        assert.equal(e.expect, 'block');
        assert.ok(Array.isArray(e.rules) && e.rules.length > 0, 'an attack names the rules it must trigger');
        for (const r of e.rules) assert.ok((RULE_IDS as readonly string[]).includes(r), `${r} is a rule id`);
        assert.match(f.manifest.description ?? '', /\b(19|20)\d\d\b/, 'the description cites the real incident and when it happened');
      } else {
        assert.ok(e.expect === 'allow' || e.expect === 'review', `benign expect is allow or review, not ${e.expect}`);
        assert.ok(e.maxSeverity && (SEVERITIES as readonly string[]).includes(e.maxSeverity), 'benign has a maxSeverity');
      }
    });

    test(`${f.name} names only reserved hosts and documentation addresses`, () => {
      const offenders: string[] = [];
      const reservedName = (h: string) => /(^|\.)(invalid|test|example)$/i.test(h.replace(/\.$/, ''));
      const docAddress = (ip: string) => /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/.test(ip);
      const walk = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
      for (const file of walk(f.dir)) {
        let text = fs.readFileSync(file, 'utf8');
        // The python fixture hides its payload in base64 (as real droppers do): check the decoded text too.
        for (const m of text.matchAll(/b64decode\('([A-Za-z0-9+/=]+)'\)/g)) text += '\n' + Buffer.from(m[1]!, 'base64').toString('utf8');
        const hosts = [
          ...[...text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s'"`]*@)?([^/\s:'"`?#)\\]+)/gi)].map((m) => m[1]!),
          ...[...text.matchAll(/\bhost\s*:\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!),
          ...[...text.matchAll(/\/dev\/(?:tcp|udp)\/([^/\s]+)/g)].map((m) => m[1]!),
          ...[...text.matchAll(/\bconnect\(\s*\d+\s*,\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!),
          // any quoted name under a public top-level domain (post('api.github.com', ...) and the like)
          ...[...text.matchAll(/['"`]((?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|app|co|ru|at|cx|xyz|info|biz|cloud|ai|me)\.?)['"`/:]/gi)].map((m) => m[1]!),
        ];
        const ips = [...text.matchAll(/(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])/g)].map((m) => m[1]!);
        for (const h of hosts) {
          if (/^\$|^\{|^<|^%/.test(h)) continue; // template placeholders
          if (/^\d{1,3}(\.\d{1,3}){3}$/.test(h) ? !docAddress(h) : !reservedName(h)) offenders.push(`${path.relative(f.dir, file)}: ${h}`);
        }
        for (const ip of ips) if (!docAddress(ip)) offenders.push(`${path.relative(f.dir, file)}: ${ip}`);
      }
      assert.deepEqual(offenders, [], 'every destination is *.invalid, *.test, *.example or 192.0.2/24, 198.51.100/24, 203.0.113/24');
    });
  }

  test('the python replica runs exactly the readable payload.py', () => {
    const dir = path.join(fixturesDir, 'attack-python-pypirc');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { scripts: { postinstall: string } };
    const b64 = /b64decode\('([A-Za-z0-9+/=]+)'\)/.exec(manifest.scripts.postinstall)?.[1];
    assert.ok(b64, 'the hook carries a base64 payload');
    assert.equal(Buffer.from(b64, 'base64').toString('utf8'), fs.readFileSync(path.join(dir, 'payload.py'), 'utf8'));
  });
});

describe('detection corpus: scans in the sandbox', () => {
  let registry: Awaited<ReturnType<typeof startLocalRegistry>>;
  let cache: string;

  before(async () => {
    // Build the sandbox image first (minutes on a fresh machine), so no scan's time limit pays for it.
    await ensureSandboxImage(await connectDocker(), {});
    registry = await startLocalRegistry({ packages: fs.readdirSync(fixturesDir).map((name) => path.join(fixturesDir, name)) });
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'si-corpus-cache-'));
  });

  after(async () => {
    await registry?.close();
    if (cache) fs.rmSync(cache, { recursive: true, force: true });
  });

  /**
   * One fixture per scan: every finding of the result belongs to this fixture's tree. Scripts are
   * bounded by scriptTimeoutMs, so a scan ends on its own well within the test's timeout; the
   * timeout only catches a sandbox that hangs.
   */
  async function scanFixture(f: Fixture): Promise<ScanResult> {
    const limits: Partial<PlanLimits> = { scriptTimeoutMs: f.expectation.scriptTimeoutMs ?? 60_000 };
    if (f.expectation.graceMs !== undefined) limits.graceMs = f.expectation.graceMs;
    return scan({ specs: [`@fixtures/${f.name}`], registry: registry.url, cache, limits });
  }

  for (const f of attacks) {
    const rules = f.expectation.rules ?? [];
    test(`attack ${f.name} is blocked with ${rules.join(', ')}`, { timeout: SCAN_TEST_TIMEOUT_MS }, async () => {
      const result = await scanFixture(f);
      const own = ownFindings(result, f.name);
      const found = new Set<string>(own.findings.map((x) => x.rule));
      const missing = rules.filter((r) => !found.has(r));
      const report = describeResult(result);
      assert.deepEqual(missing, [], `${f.name}: expected rules missing from its findings\n${report}`);
      assert.equal(own.verdict, 'block', `${f.name}: the attacking package itself is blocked\n${report}`);
      assert.equal(result.assessment.verdict, 'block', `${f.name}: overall verdict\n${report}`);
    });
  }

  for (const f of benign) {
    const { expect, maxSeverity = 'info' } = f.expectation;
    test(`benign ${f.name} is ${expect === 'allow' ? 'allowed' : `at most ${expect}`}, nothing above ${maxSeverity}`, { timeout: SCAN_TEST_TIMEOUT_MS }, async () => {
      const result = await scanFixture(f);
      ownFindings(result, f.name);
      const report = describeResult(result);
      const limit = SEVERITIES.indexOf(maxSeverity);
      const tooSevere = result.assessment.packages.flatMap((p) =>
        p.findings.filter((x) => SEVERITIES.indexOf(x.severity) < limit).map((x) => `${p.location}: ${x.severity} ${x.rule}: ${x.message}`),
      );
      assert.deepEqual(tooSevere, [], `${f.name}: findings above ${maxSeverity}\n${report}`);
      assert.ok(
        VERDICT_RANK[result.assessment.verdict] <= VERDICT_RANK[expect],
        `${f.name}: verdict ${result.assessment.verdict}, expected ${expect === 'allow' ? 'allow' : `${expect} at most`}\n${report}`,
      );
      for (const { session, info } of result.chain.packages) {
        for (const s of session.scripts) {
          assert.ok(s.outcome === 'ok', `${info.name} ${s.event} ran to completion (${s.outcome})\n${report}`);
        }
      }
    });
  }
});
