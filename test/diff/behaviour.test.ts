import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffPackages, hasNewBehaviour } from '../../src/diff/behaviour.js';
import { renderDiffsTerminal } from '../../src/report/diff-terminal.js';
import { buildJsonReport } from '../../src/report/json.js';
import { assess } from '../../src/rules/index.js';
import { ChainBuilder } from '../rules/chain-builder.js';
import { honestReport, hijackedReport } from './support.js';

test('behaviour diff: new secret reads, hosts, programs and scripts, each with its evidence', () => {
  const before = honestReport();
  const after = hijackedReport();
  const diff = diffPackages({ pkg: before.packages[0]!, report: before }, { pkg: after.packages[0]!, report: after }, '1.0.0');
  assert.deepEqual(diff.scriptsAdded, [{ event: 'preinstall', command: 'node setup.js' }]);
  assert.deepEqual(diff.secretReads.map((t) => t.what), ['~/.npmrc']);
  assert.deepEqual(diff.hosts.map((t) => t.what), ['telemetry.example'], 'registry.npmjs.org was contacted before too');
  assert.equal(diff.hosts[0]!.evidence.length, 2, 'the DNS query and the connection');
  assert.deepEqual(diff.processes.map((t) => t.what), ['uname'], 'sh and node ran before too');
  const pkg = after.packages[0]!;
  for (const thing of [...diff.secretReads, ...diff.hosts, ...diff.processes]) {
    for (const id of thing.evidence) {
      const all = [...pkg.session.files, ...pkg.session.dns, ...pkg.session.connections, ...pkg.session.processes].map((e) => e.id);
      assert.ok(all.includes(id), `${id} is an event of the new version`);
    }
  }
  assert.ok(diff.newRules.includes('credential-access'), diff.newRules.join(','));
  assert.equal(diff.summary, 'popular-lib@1.0.1 (was 1.0.0) started reading ~/.npmrc, calling a new host (telemetry.example) and running uname (new preinstall script)');
  assert.equal(hasNewBehaviour(diff), true);
  const text = renderDiffsTerminal([diff], { color: false });
  assert.equal(text.split('\n')[0], `NEW  ${diff.summary}`, 'the headline comes first');
});

test('behaviour diff: the same behaviour twice is nothing new', () => {
  const a = honestReport();
  const b = honestReport();
  const diff = diffPackages({ pkg: a.packages[0]!, report: a }, { pkg: b.packages[0]!, report: b }, '1.0.0');
  assert.equal(hasNewBehaviour(diff), false);
  assert.match(diff.summary, /nothing new at install time$/);
});

test('behaviour diff: terminal output never obeys control characters from the package', () => {
  const before = honestReport();
  const after = hijackedReport();
  after.packages[0]!.scripts.preinstall = 'node setup.js\u001b[2J\rfake';
  const diff = diffPackages({ pkg: before.packages[0]!, report: before }, { pkg: after.packages[0]!, report: after }, '1.0.0');
  const text = renderDiffsTerminal([diff], { color: false });
  assert.ok(!text.includes('\u001b') && !text.includes('\r'), JSON.stringify(text));
  assert.match(text, /\\x1b\[2J\\x0dfake/);
});

test('behaviour diff: an address the package looked up is that name (glibc sorts answers with UDP connects), not another host', () => {
  const before = honestReport();
  const b = new ChainBuilder();
  const s = b.pkg('popular-lib', '1.0.1').script('postinstall', 'node build.js', { wrapperExecs: ['node', 'build.js'] });
  s.dns(s.root, 'telemetry.example', ['192.0.2.9']);
  s.dns(s.root, 'telemetry.example', ['2001:db8::9'], 'AAAA');
  // What getaddrinfo does before the real connection: a UDP connect() to each answer, at the port asked for.
  const probes = [s.connect(s.root, '192.0.2.9', 80, { protocol: 'udp', result: 'ok' }), s.connect(s.root, '2001:db8::9', 80, { protocol: 'udp', result: 'ok' })];
  const real = s.connect(s.root, '192.0.2.9', 80, { result: 'EINPROGRESS', hostname: 'telemetry.example' });
  // An address no lookup of its own answered stays an address.
  const bare = s.connect(s.root, '198.51.100.7', 443, { result: 'EINPROGRESS' });
  const chain = b.build();
  const after = buildJsonReport({ chain, assessment: assess(chain), tool: { name: 'safe-install', version: '0.0.0-test' } });
  const diff = diffPackages({ pkg: before.packages[0]!, report: before }, { pkg: after.packages[0]!, report: after }, '1.0.0');
  assert.deepEqual(diff.hosts.map((t) => t.what), ['telemetry.example', '198.51.100.7:443']);
  // The probes sent nothing (src/rules/egress.ts routeProbes): the lookups and the real connection are the evidence.
  assert.ok(diff.hosts[0]!.evidence.includes(real.id) && diff.hosts[0]!.evidence.length === 3, JSON.stringify(diff.hosts[0]));
  assert.ok(!probes.some((p) => diff.hosts.flatMap((h) => h.evidence).includes(p.id)));
  assert.deepEqual(diff.hosts[1]!.evidence, [bare.id]);
  assert.match(diff.summary, /calling new hosts \(telemetry\.example, 198\.51\.100\.7:443\)/);
});
