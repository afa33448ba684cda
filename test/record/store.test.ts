/**
 * The record store against real tampering: each test edits the file the way an attacker (or a
 * careless hand) would, and verify must say what happened and where.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canonicalJson, findRecord, readRecordLines, verifyRecords } from '../../src/record/index.js';
import { recordPayload, sha256 } from '../../src/record/hash.js';
import type { SessionRecord } from '../../src/record/types.js';
import { appendScans, lines, tempStore, writeLines } from './support.js';

const dirs: string[] = [];
const store = (): string => {
  const d = tempStore();
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const kinds = (r: Awaited<ReturnType<typeof verifyRecords>>): string[] => r.problems.map((p) => p.kind);

/** Re-hash a record after changing it, as an attacker who knows the format would. */
function rehash(rec: SessionRecord): SessionRecord {
  const { hash: _h, hmac: _m, ...rest } = rec;
  return { ...rest, hash: sha256(recordPayload(rest)) } as SessionRecord;
}

describe('canonical JSON', () => {
  test('sorts keys at every depth and ignores how the object was written', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
    assert.throws(() => canonicalJson({ a: NaN }), /non-finite/);
  });
});

describe('record store', () => {
  test('records chain to each other, carry the session, and verify', async () => {
    const dir = store();
    await appendScans(dir, 3);
    const recs = readRecordLines(dir).map((l) => l.record!);
    assert.deepEqual(recs.map((r) => r.seq), [1, 2, 3]);
    assert.equal(recs[0]!.prev, null);
    assert.equal(recs[1]!.prev, recs[0]!.hash);
    assert.equal(recs[2]!.prev, recs[1]!.hash);
    assert.equal(recs[0]!.id, 'session-1');
    assert.equal(recs[0]!.body.verdict, 'block');
    assert.equal(recs[0]!.body.imageDigest, 'sha256:abc');
    assert.ok(recs[0]!.body.chain!.packages.length > 3);
    assert.ok(recs[0]!.body.findings.some((p) => p.package === 'evil-helper@2.1.0' && p.findings.some((f) => f.rule === 'credential-access')));
    assert.equal((recs[0]!.body.provenance as { cwd: string }).cwd, process.cwd());
    assert.equal(recs[0]!.hmac, undefined);
    const result = await verifyRecords({ dir, env: {} });
    assert.deepEqual(result.problems, []);
    assert.equal(result.ok, true);
    assert.equal(result.records, 3);
    assert.equal(findRecord('2', dir)!.id, 'session-2');
    assert.equal(findRecord('session-3', dir)!.seq, 3);
    assert.equal(findRecord('last', dir)!.seq, 3);
    assert.equal(findRecord(recs[0]!.hash.slice(0, 10), dir)!.seq, 1);
    assert.equal(findRecord('nope', dir), null);
  });

  test('a hash prefix made only of digits still finds its record (not taken for a seq)', async () => {
    const dir = store();
    await appendScans(dir, 1);
    const [line] = readRecordLines(dir);
    // Rewrite the one record's hash to start with digits only: what findRecord sees, not a chain to verify.
    const record = { ...line!.record!, hash: `1234567890${line!.record!.hash.slice(10)}` };
    writeLines(dir, [JSON.stringify(record)]);
    assert.equal(findRecord('1234567890', dir)?.seq, 1);
    assert.equal(findRecord('1', dir)?.seq, 1);
  });

  test('an edited record is named', async () => {
    const dir = store();
    await appendScans(dir, 3);
    const ls = lines(dir);
    ls[1] = ls[1]!.replace('"verdict":"block"', '"verdict":"allow"');
    writeLines(dir, ls);
    const r = await verifyRecords({ dir, env: {} });
    assert.equal(r.ok, false);
    assert.deepEqual(kinds(r), ['edited']);
    assert.equal(r.problems[0]!.seq, 2);
    assert.equal(r.problems[0]!.line, 2);
  });

  test('an edited and re-hashed record is caught by the next link', async () => {
    const dir = store();
    await appendScans(dir, 3);
    const ls = lines(dir);
    const rec = JSON.parse(ls[0]!) as SessionRecord;
    rec.body.verdict = 'allow';
    ls[0] = JSON.stringify(rehash(rec));
    writeLines(dir, ls);
    const r = await verifyRecords({ dir, env: {} });
    assert.deepEqual(kinds(r), ['edited']);
    assert.equal(r.problems[0]!.seq, 2, 'the break shows at record 2');
    assert.match(r.problems[0]!.message, /record 1 was rewritten/);
  });

  test('a removed record in the middle, and records cut off the end', async () => {
    const dir = store();
    await appendScans(dir, 4);
    const ls = lines(dir);
    writeLines(dir, [ls[0]!, ls[2]!, ls[3]!]);
    let r = await verifyRecords({ dir, env: {} });
    assert.deepEqual(kinds(r), ['removed']);
    assert.match(r.problems[0]!.message, /record 2 was removed before record 3/);

    writeLines(dir, [ls[0]!, ls[1]!]);
    r = await verifyRecords({ dir, env: {} });
    assert.deepEqual(kinds(r), ['truncated']);
    assert.match(r.problems[0]!.message, /records 3-4 were removed from the end/);
  });

  test('reordered records', async () => {
    const dir = store();
    await appendScans(dir, 3);
    const ls = lines(dir);
    writeLines(dir, [ls[0]!, ls[2]!, ls[1]!]);
    const r = await verifyRecords({ dir, env: {} });
    assert.ok(r.problems.length > 0);
    assert.ok(kinds(r).every((k) => k === 'reordered'), kinds(r).join());
    assert.ok(r.problems.some((p) => p.seq === 2));
  });

  test('an inserted record (copied, or appended by hand)', async () => {
    const dir = store();
    await appendScans(dir, 3);
    const ls = lines(dir);
    writeLines(dir, [ls[0]!, ls[1]!, ls[1]!, ls[2]!]);
    let r = await verifyRecords({ dir, env: {} });
    assert.ok(kinds(r).includes('inserted'));
    assert.equal(r.problems.find((p) => p.kind === 'inserted')!.line, 3);

    // A well-formed record chained to the last one, appended without safe-install.
    const last = JSON.parse(ls[2]!) as SessionRecord;
    const forged = rehash({ ...last, seq: 4, id: 'forged', prev: last.hash });
    writeLines(dir, [...ls, JSON.stringify(forged)]);
    r = await verifyRecords({ dir, env: {} });
    assert.deepEqual(kinds(r), ['inserted']);
    assert.match(r.problems[0]!.message, /without updating the head/);
  });

  test('a damaged line is reported, and the next append still chains to the last good record', async () => {
    const dir = store();
    await appendScans(dir, 2);
    fs.appendFileSync(path.join(dir, 'records.jsonl'), '{"seq": 3, "torn');
    await appendScans(dir, 1);
    const recs = readRecordLines(dir);
    assert.equal(recs.length, 4);
    assert.equal(recs[3]!.record!.seq, 3);
    assert.equal(recs[3]!.record!.prev, recs[1]!.record!.hash);
    const r = await verifyRecords({ dir, env: {} });
    assert.deepEqual(kinds(r), ['corrupt']);
    assert.equal(r.problems[0]!.line, 3);
  });

  test('HMAC: signed records verify with the key, not with another, and stripping a signature is seen', async () => {
    const dir = store();
    const env = { SAFE_INSTALL_RECORD_KEY: 'k3y-for-tests' };
    await appendScans(dir, 2, env);
    const recs = readRecordLines(dir).map((l) => l.record!);
    assert.match(recs[0]!.hmac ?? '', /^[0-9a-f]{64}$/);
    assert.equal((await verifyRecords({ dir, env })).ok, true);
    const wrong = await verifyRecords({ dir, env: { SAFE_INSTALL_RECORD_KEY: 'other' } });
    assert.deepEqual(kinds(wrong), ['forged', 'forged', 'forged']);

    // Rewrite the whole chain consistently, without the key: only the signatures tell.
    const ls = lines(dir);
    const first = JSON.parse(ls[0]!) as SessionRecord;
    first.body.verdict = 'allow';
    const r1 = rehash(first);
    const second = rehash({ ...(JSON.parse(ls[1]!) as SessionRecord), prev: r1.hash });
    writeLines(dir, [JSON.stringify(r1), JSON.stringify(second)]);
    fs.writeFileSync(path.join(dir, 'head.json'), JSON.stringify({ seq: 2, hash: second.hash }));
    assert.equal((await verifyRecords({ dir, env: {} })).ok, true, 'without the key a full rewrite cannot be told');
    const keyed = await verifyRecords({ dir, env });
    assert.deepEqual(kinds(keyed), ['unsigned', 'unsigned', 'forged']);
  });

  test('concurrent writers never fork or corrupt the chain', async () => {
    const dir = store();
    const writer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'writer.js');
    const procs = Array.from({ length: 4 }, (_, i) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [writer, dir, String(i), '8'], { stdio: ['ignore', 'ignore', 'inherit'] });
        child.on('close', resolve);
      }),
    );
    assert.deepEqual(await Promise.all(procs), [0, 0, 0, 0]);
    const recs = readRecordLines(dir);
    assert.equal(recs.length, 32);
    assert.deepEqual(recs.map((l) => l.record!.seq), Array.from({ length: 32 }, (_, i) => i + 1));
    const r = await verifyRecords({ dir, env: {} });
    assert.deepEqual(r.problems, []);
    assert.equal(new Set(recs.map((l) => l.record!.id)).size, 32);
    assert.ok(!fs.existsSync(path.join(dir, 'records.lock')), 'the lock is released');
  });
});
