/**
 * The policy applied to an assessment: overrides, per-package settings by range, allowed
 * destinations, acknowledgements, and verdicts recomputed, with everything it hid still listed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPolicy, type Policy } from '../../src/policy/index.js';
import { assess } from '../../src/rules/index.js';
import type { Assessment, Finding, PackageAssessment, RuleId, Severity } from '../../src/rules/types.js';
import type { ConnectionEvent } from '../../src/session/types.js';
import { ChainBuilder } from '../rules/chain-builder.js';

function finding(rule: RuleId, severity: Severity, evidence: string[] = []): Finding {
  return { rule, severity, message: `${rule} finding`, evidence };
}

/** A chain with the given packages and an assessment holding the given findings for each. */
function setup(packages: { name: string; version?: string; findings: Finding[] }[]) {
  const builder = new ChainBuilder();
  const pkgs = packages.map((p) => builder.pkg(p.name, p.version ?? '1.0.0'));
  const assessment: Assessment = {
    verdict: 'allow',
    packages: packages.map((p, i): PackageAssessment => ({ location: pkgs[i]!.info.location, verdict: 'allow', findings: p.findings })),
  };
  return { chain: builder.build(), assessment, pkgs };
}

function only(result: Assessment): PackageAssessment {
  assert.equal(result.packages.length, 1);
  return result.packages[0]!;
}

const rules = (pkg: PackageAssessment): string[] => pkg.findings.map((f) => `${f.rule}:${f.severity}`);

describe('severity overrides', () => {
  test('global override and off; the input is not changed', () => {
    const { chain, assessment } = setup([{ name: 'a', findings: [finding('network-egress', 'high'), finding('shell-spawn', 'info'), finding('recon', 'medium')] }]);
    const before = structuredClone(assessment);
    const result = applyPolicy(assessment, chain, { rules: { 'network-egress': 'medium', 'shell-spawn': 'off' } });
    const pkg = only(result);
    assert.deepEqual(rules(pkg), ['network-egress:medium', 'recon:medium']);
    assert.equal(pkg.verdict, 'review');
    assert.equal(result.verdict, 'review');
    assert.deepEqual(pkg.suppressed, [
      { finding: finding('network-egress', 'high'), by: 'policy rules["network-egress"]', changedTo: 'medium' },
      { finding: finding('shell-spawn', 'info'), by: 'policy rules["shell-spawn"]' },
    ]);
    assert.deepEqual(assessment, before);
  });

  test('an override can raise a severity, and findings are sorted again', () => {
    const { chain, assessment } = setup([{ name: 'a', findings: [finding('recon', 'medium'), finding('shell-spawn', 'info')] }]);
    const pkg = only(applyPolicy(assessment, chain, { rules: { 'shell-spawn': 'high' } }));
    assert.deepEqual(rules(pkg), ['shell-spawn:high', 'recon:medium']);
    assert.equal(pkg.verdict, 'block');
  });

  test('an override to the same severity changes nothing and is not listed', () => {
    const { chain, assessment } = setup([{ name: 'a', findings: [finding('recon', 'medium')] }]);
    const pkg = only(applyPolicy(assessment, chain, { rules: { recon: 'medium' } }));
    assert.equal(pkg.suppressed, undefined);
  });

  test('per package by range: matching and non-matching versions', () => {
    const { chain, assessment } = setup([
      { name: 'esbuild', version: '0.21.5', findings: [finding('native-build', 'info'), finding('network-egress', 'high')] },
      { name: 'esbuild', version: '0.19.0', findings: [finding('native-build', 'info'), finding('network-egress', 'high')] },
      { name: 'other', findings: [finding('native-build', 'info')] },
    ]);
    // Two copies of one name live at different locations in a real tree.
    chain.packages[1]!.info.location = 'node_modules/x/node_modules/esbuild';
    assessment.packages[1]!.location = 'node_modules/x/node_modules/esbuild';
    const result = applyPolicy(assessment, chain, {
      rules: { 'network-egress': 'medium' },
      packages: { 'esbuild@>=0.20': { rules: { 'native-build': 'off', 'network-egress': 'low' } } },
    });
    const [newer, older, other] = result.packages;
    assert.deepEqual(rules(newer!), ['network-egress:low']);
    assert.equal(newer!.suppressed?.find((s) => s.finding.rule === 'network-egress')?.by, 'policy packages["esbuild@>=0.20"].rules["network-egress"]');
    assert.deepEqual(rules(older!), ['network-egress:medium', 'native-build:info']);
    assert.deepEqual(rules(other!), ['native-build:info']);
    assert.equal(result.verdict, 'review');
  });

  test('a name alone matches every version; the later matching entry wins', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.5', findings: [finding('recon', 'medium')] }]);
    const pkg = only(applyPolicy(assessment, chain, { packages: { sharp: { rules: { recon: 'off' } }, 'sharp@0.33.x': { rules: { recon: 'low' } } } }));
    assert.deepEqual(rules(pkg), ['recon:low']);
    const reversed = only(applyPolicy(assessment, chain, { packages: { 'sharp@0.33.x': { rules: { recon: 'low' } }, sharp: { rules: { recon: 'off' } } } }));
    assert.deepEqual(rules(reversed), []);
  });

  test('a prerelease only matches a range that names it (npm semantics)', () => {
    const { chain, assessment } = setup([{ name: 'a', version: '2.0.0-beta.1', findings: [finding('recon', 'medium')] }]);
    assert.deepEqual(rules(only(applyPolicy(assessment, chain, { packages: { 'a@>=1': { rules: { recon: 'off' } } } }))), ['recon:medium']);
    assert.deepEqual(rules(only(applyPolicy(assessment, chain, { packages: { a: { rules: { recon: 'off' } } } }))), []);
  });
});

describe('allowEgress', () => {
  /** One package whose connections and DNS lookups go through the real network-egress rule. */
  function withConnections(conns: { address: string; port: number | null; opts?: Partial<ConnectionEvent> }[], dns: string[] = []) {
    const builder = new ChainBuilder();
    const pkg = builder.pkg('fetcher', '1.0.0');
    const script = pkg.script('postinstall', 'node fetch.js');
    const process = script.process(['node', 'fetch.js']);
    for (const name of dns) script.dns(process, name, ['192.0.2.10']);
    for (const c of conns) script.connect(process, c.address, c.port, c.opts ?? {});
    const chain = builder.build();
    return { chain, assessment: assess(chain) };
  }

  const allow = (...hosts: string[]): Policy => ({ packages: { 'fetcher@^1': { allowEgress: hosts } } });
  const egressFindings = (a: Assessment): Finding[] => only(a).findings.filter((f) => f.rule === 'network-egress');

  test('exact host, with its DNS lookup', () => {
    const { chain, assessment } = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'registry.npmjs.org' } }], ['registry.npmjs.org']);
    assert.equal(egressFindings(assessment).length, 1, 'the rule joins the lookup to the connection');
    const result = applyPolicy(assessment, chain, allow('registry.npmjs.org'));
    assert.deepEqual(egressFindings(result), []);
    assert.equal(only(result).verdict, 'allow');
    assert.equal(result.verdict, 'allow');
    assert.equal(only(result).suppressed?.[0]?.by, 'policy packages["fetcher@^1"].allowEgress');
  });

  test('a lookup alone is allowed by the host, whatever the pattern port', () => {
    const { chain, assessment } = withConnections([], ['objects.github.com.']);
    assert.equal(egressFindings(assessment).length, 1);
    assert.deepEqual(egressFindings(applyPolicy(assessment, chain, allow('*.github.com:443'))), []);
  });

  test('a different host is kept; names compare without case', () => {
    const { chain, assessment } = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'Registry.NPMjs.org' } }]);
    assert.deepEqual(egressFindings(applyPolicy(assessment, chain, allow('registry.npmjs.org'))), []);
    assert.equal(egressFindings(applyPolicy(assessment, chain, allow('registry.yarnpkg.com'))).length, 1);
  });

  test('a wildcard matches names below the suffix, not the bare suffix', () => {
    const below = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'codeload.github.com' } }]);
    assert.deepEqual(egressFindings(applyPolicy(below.assessment, below.chain, allow('*.github.com'))), []);
    const deeper = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'a.b.github.com' } }]);
    assert.deepEqual(egressFindings(applyPolicy(deeper.assessment, deeper.chain, allow('*.github.com'))), []);
    const bare = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'github.com' } }]);
    assert.equal(egressFindings(applyPolicy(bare.assessment, bare.chain, allow('*.github.com'))).length, 1);
    const lookalike = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'evilgithub.com' } }]);
    assert.equal(egressFindings(applyPolicy(lookalike.assessment, lookalike.chain, allow('*.github.com'))).length, 1);
  });

  test('a port in the pattern must match the connection', () => {
    const tls = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'api.github.com' } }]);
    assert.deepEqual(egressFindings(applyPolicy(tls.assessment, tls.chain, allow('*.github.com:443'))), []);
    const plain = withConnections([{ address: '192.0.2.10', port: 80, opts: { hostname: 'api.github.com' } }]);
    assert.equal(egressFindings(applyPolicy(plain.assessment, plain.chain, allow('*.github.com:443'))).length, 1);
    assert.deepEqual(egressFindings(applyPolicy(plain.assessment, plain.chain, allow('*.github.com'))), [], 'no port: any port');
  });

  test('an IP-only destination never matches', () => {
    const { chain, assessment } = withConnections([{ address: '192.0.2.10', port: 443 }]);
    assert.equal(egressFindings(applyPolicy(assessment, chain, allow('registry.npmjs.org', '*.github.com'))).length, 1);
    // Even when the only name seen is the address itself.
    const literal = withConnections([{ address: '192.0.2.10', port: 80, opts: { observed: { protocol: 'http', http: { method: 'GET', host: '192.0.2.10', path: '/', headers: {}, body: '', bodyBytes: 0, truncated: false } } } }]);
    assert.equal(egressFindings(applyPolicy(literal.assessment, literal.chain, { packages: { fetcher: { allowEgress: ['*.10'] } } })).length, 1);
  });

  test('observed SNI and Host header count, and all of them must be allowed', () => {
    const sni = withConnections([{ address: '192.0.2.10', port: 443, opts: { observed: { protocol: 'tls', sni: 'registry.npmjs.org' } } }]);
    assert.deepEqual(egressFindings(applyPolicy(sni.assessment, sni.chain, allow('registry.npmjs.org:443'))), []);
    const http = { method: 'POST', host: 'collector.example:8080', path: '/', headers: {}, body: '', bodyBytes: 0, truncated: false };
    // Domain fronting: an allowed SNI does not cover a Host header naming someone else.
    const fronted = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'registry.npmjs.org', observed: { protocol: 'https', sni: 'registry.npmjs.org', http } } }]);
    assert.equal(egressFindings(applyPolicy(fronted.assessment, fronted.chain, allow('registry.npmjs.org'))).length, 1);
    assert.deepEqual(egressFindings(applyPolicy(fronted.assessment, fronted.chain, allow('registry.npmjs.org', 'collector.example'))), []);
  });

  test('allowEgress of another package, or of a non-matching version, does not apply', () => {
    const { chain, assessment } = withConnections([{ address: '192.0.2.10', port: 443, opts: { hostname: 'registry.npmjs.org' } }]);
    assert.equal(egressFindings(applyPolicy(assessment, chain, { packages: { other: { allowEgress: ['registry.npmjs.org'] } } })).length, 1);
    assert.equal(egressFindings(applyPolicy(assessment, chain, { packages: { 'fetcher@2': { allowEgress: ['registry.npmjs.org'] } } })).length, 1);
  });

  test('only network-egress findings are dropped by allowEgress', () => {
    const { chain, assessment } = setup([{ name: 'fetcher', findings: [finding('exfiltration', 'critical', ['n1'])] }]);
    assert.equal(only(applyPolicy(assessment, chain, allow('registry.npmjs.org'))).findings.length, 1);
  });

});

describe('acknowledgements', () => {
  const INTEGRITY = `sha512-${Buffer.from('sharp').toString('base64')}`;
  const ack = (extra: Partial<NonNullable<Policy['acknowledge']>[number]> = {}): Policy => ({
    acknowledge: [{ package: 'sharp@0.33.5', integrity: INTEGRITY, reason: 'downloads libvips, checked by @alice', ...extra }],
  });

  test('same version and integrity: the listed rules are acknowledged, with the reason', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.5', findings: [finding('network-egress', 'high'), finding('recon', 'medium')] }]);
    const pkg = only(applyPolicy(assessment, chain, ack({ rules: ['network-egress'] })));
    assert.deepEqual(rules(pkg), ['recon:medium']);
    assert.deepEqual(pkg.suppressed, [{ finding: finding('network-egress', 'high'), by: 'policy acknowledge[0]', reason: 'downloads libvips, checked by @alice' }]);
    assert.equal(pkg.verdict, 'review');
  });

  test('without rules: every finding but critical ones', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.5', findings: [finding('credential-access', 'critical'), finding('network-egress', 'high'), finding('native-build', 'info')] }]);
    const pkg = only(applyPolicy(assessment, chain, ack()));
    assert.deepEqual(rules(pkg), ['credential-access:critical']);
    assert.equal(pkg.verdict, 'block');
  });

  test('a critical finding is acknowledged only when its rule is listed', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.5', findings: [finding('credential-access', 'critical')] }]);
    assert.deepEqual(rules(only(applyPolicy(assessment, chain, ack({ rules: ['network-egress'] })))), ['credential-access:critical']);
    const pkg = only(applyPolicy(assessment, chain, ack({ rules: ['credential-access'] })));
    assert.deepEqual(rules(pkg), []);
    assert.equal(pkg.verdict, 'allow');
  });

  test('a finding raised to critical by the policy is not acknowledged without its rule either', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.5', findings: [finding('recon', 'medium')] }]);
    assert.deepEqual(rules(only(applyPolicy(assessment, chain, { ...ack(), rules: { recon: 'critical' } }))), ['recon:critical']);
  });

  test('a changed integrity is NOT acknowledged', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.5', findings: [finding('network-egress', 'high')] }]);
    chain.packages[0]!.info.integrity = 'sha512-c29tZXRoaW5nIGVsc2U=';
    const pkg = only(applyPolicy(assessment, chain, ack({ rules: ['network-egress'] })));
    assert.deepEqual(rules(pkg), ['network-egress:high']);
    assert.equal(pkg.suppressed, undefined);
    assert.equal(pkg.verdict, 'block');
  });

  test('another version is NOT acknowledged, even with the same integrity', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.6', findings: [finding('network-egress', 'high')] }]);
    chain.packages[0]!.info.integrity = INTEGRITY;
    assert.deepEqual(rules(only(applyPolicy(assessment, chain, ack({ rules: ['network-egress'] })))), ['network-egress:high']);
  });

  test('the integrity matches one hash of a multi-hash SRI string', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.5', findings: [finding('network-egress', 'high')] }]);
    chain.packages[0]!.info.integrity = `sha1-AAAA ${INTEGRITY}`;
    assert.deepEqual(rules(only(applyPolicy(assessment, chain, ack()))), []);
  });
});

describe('locked rules', () => {
  test('timeout and sandbox-error are never changed or acknowledged, even by a Policy built in code', () => {
    const { chain, assessment } = setup([{ name: 'sharp', version: '0.33.5', findings: [finding('timeout', 'high'), finding('sandbox-error', 'high')] }]);
    const integrity = chain.packages[0]!.info.integrity;
    const policy: Policy = {
      rules: { timeout: 'off', 'sandbox-error': 'info' },
      acknowledge: [{ package: 'sharp@0.33.5', integrity, rules: ['timeout', 'sandbox-error'], reason: 'no' }],
    };
    const pkg = only(applyPolicy(assessment, chain, policy));
    assert.deepEqual(rules(pkg), ['timeout:high', 'sandbox-error:high']);
    assert.equal(pkg.verdict, 'block');
  });
});

describe('verdicts', () => {
  test('package and overall verdicts are recomputed from what is left', () => {
    const { chain, assessment } = setup([
      { name: 'a', findings: [finding('network-egress', 'high')] },
      { name: 'b', findings: [finding('detached-process', 'medium')] },
      { name: 'c', findings: [finding('shell-spawn', 'info')] },
    ]);
    const input = { ...assessment, verdict: 'block' as const, packages: assessment.packages.map((p, i) => ({ ...p, verdict: (['block', 'review', 'allow'] as const)[i]! })) };
    const lenient = applyPolicy(input, chain, { packages: { a: { rules: { 'network-egress': 'off' } } } });
    assert.deepEqual(lenient.packages.map((p) => p.verdict), ['allow', 'review', 'allow']);
    assert.equal(lenient.verdict, 'review');
    const all = applyPolicy(input, chain, { rules: { 'network-egress': 'low', 'detached-process': 'info' } });
    assert.equal(all.verdict, 'allow');
  });

  test('a block the packages do not explain (a sandbox fault) stays', () => {
    const builder = new ChainBuilder();
    builder.chain.errors.push({ message: 'container died' });
    const chain = builder.build();
    const assessment = assess(chain);
    assert.equal(assessment.verdict, 'block');
    assert.equal(applyPolicy(assessment, chain, { rules: { recon: 'off' } }).verdict, 'block');
  });

  test('an empty policy changes nothing', () => {
    const { chain, assessment } = setup([{ name: 'a', findings: [finding('recon', 'medium'), finding('shell-spawn', 'info')] }]);
    const input = { ...assessment, verdict: 'review' as const, packages: [{ ...assessment.packages[0]!, verdict: 'review' as const }] };
    assert.deepEqual(applyPolicy(input, chain, {}), input);
  });
});
