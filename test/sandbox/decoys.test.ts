/**
 * The decoy generator: formats real tools accept (checked with independent implementations
 * and real tools: python's zlib and sqlite3, ssh-keygen, git, openssl), canaries that are
 * exactly where they claim to be, and fresh values every scan.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createDecoys, type Decoys } from '../../src/sandbox/decoys/index.js';
import {
  anthropicApiKey,
  awsAccessKeyId,
  awsAccountFromKeyId,
  awsSecretAccessKey,
  base62,
  crc32,
  dockerHubToken,
  githubToken,
  hasValidTokenChecksum,
  npmToken,
  openaiProjectKey,
  pypiToken,
  stripeSecretKey,
} from '../../src/sandbox/decoys/formats.js';
import { crc32c, logFile } from '../../src/sandbox/decoys/leveldb.js';
import { Rand } from '../../src/sandbox/decoys/random.js';
import { sqliteDatabase } from '../../src/sandbox/decoys/sqlite.js';

const HOME = '/home/alex';
const PROJECT = `${HOME}/code/webapp`;
const NOW = Date.UTC(2026, 2, 14, 9, 30);

function make(random?: (n: number) => Buffer): Decoys {
  return createDecoys({
    home: HOME,
    projectDir: PROJECT,
    user: 'alex',
    hostname: 'alex-thinkpad',
    projectPackageJson: { name: '_scan', version: '0.0.0', dependencies: { 'left-pad': '^1.3.0' } },
    now: NOW,
    ...(random ? { random } : {}),
  });
}

/** A reproducible byte source (SHA-256 in counter mode). */
function seeded(seed: string): (n: number) => Buffer {
  let counter = 0;
  return (n) => {
    const out: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const block = crypto.createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.push(block);
      have += block.length;
    }
    return Buffer.concat(out).subarray(0, n);
  };
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const rand = new Rand();

describe('decoy formats', () => {
  test('GitHub and npm tokens: prefix, 36 base62 characters, CRC32 checksum as an independent implementation computes it', () => {
    // Computed with python's zlib.crc32 and a base62 (0-9A-Za-z) encoder, outside this code.
    assert.ok(hasValidTokenChecksum('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'));
    assert.ok(hasValidTokenChecksum('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'));
    assert.ok(!hasValidTokenChecksum('ghp_abcdefghijklmnopqrstuvwxyz01232LolCn'));
    assert.equal(crc32('123456789'), 0xcbf43926, 'the standard CRC-32 check value');
    assert.equal(base62(0, 6), '000000');
    const tokens = [githubToken(rand), githubToken(rand, 'gho'), npmToken(rand)];
    for (const token of tokens) {
      assert.match(token, /^(ghp|gho|npm)_[0-9A-Za-z]{36}$/);
      assert.ok(hasValidTokenChecksum(token), token);
    }
    if (has('python3')) {
      const script =
        "import sys,zlib\nA='0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'\n" +
        'for t in sys.stdin.read().split():\n  b=t[4:-6]; n=zlib.crc32(b.encode()); s=""\n' +
        '  while n: s=A[n%62]+s; n//=62\n  print(s.rjust(6,"0")==t[-6:])\n';
      assert.equal(run('python3', ['-c', script], { input: tokens.join('\n') }).trim(), 'True\nTrue\nTrue');
    }
  });

  test('AWS keys: AKIA + 16 base32 characters that encode the account id, 40-character secret', () => {
    const id = awsAccessKeyId(rand, '123456789012');
    assert.match(id, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(awsAccountFromKeyId(id), '123456789012');
    if (has('python3')) {
      // The published decoding (base32, bits 1..40 of the first six bytes after the prefix).
      const script =
        'import base64,sys\nx=base64.b32decode(sys.argv[1][4:])\nz=int.from_bytes(x[0:6],"big")\nprint((z & 0x7fffffffff80)>>7)';
      assert.equal(run('python3', ['-c', script, id]).trim(), '123456789012');
    }
    assert.match(awsSecretAccessKey(rand), /^[A-Za-z0-9+/]{40}$/);
  });

  test('API keys have their services’ exact shapes', () => {
    assert.match(stripeSecretKey(rand), /^sk_live_51[0-9A-Za-z]{97}$/);
    const openai = openaiProjectKey(rand);
    assert.match(openai, /^sk-proj-[A-Za-z0-9_-]{74}T3BlbkFJ[A-Za-z0-9_-]{74}$/);
    assert.equal(openai.length, 164);
    assert.match(anthropicApiKey(rand), /^sk-ant-api03-[A-Za-z0-9_-]{93}AA$/);
    assert.match(dockerHubToken(rand), /^dckr_pat_[A-Za-z0-9_-]{27}$/);
    const pypi = pypiToken(rand);
    assert.match(pypi, /^pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]+$/);
    assert.ok(Buffer.from(pypi.slice(5), 'base64url').includes(Buffer.from('pypi.org')));
  });

  test('random draws are unbiased over the alphabet', () => {
    const counts = new Map<string, number>();
    const text = rand.chars('abc', 30_000);
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    for (const n of counts.values()) assert.ok(Math.abs(n - 10_000) < 600, `skewed: ${[...counts]}`);
  });
});

describe('decoy files open in the real tools', () => {
  let decoys: Decoys;
  let root: string;
  const at = (p: string): string => path.join(root, p);

  before(() => {
    decoys = make();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'si-decoys-'));
    for (const f of decoys.files) {
      const p = at(f.path);
      if (f.type === 'dir') {
        fs.mkdirSync(p, { recursive: true });
        continue;
      }
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, Buffer.from(f.content, f.encoding === 'base64' ? 'base64' : 'utf8'));
      fs.chmodSync(p, Number.parseInt(f.mode ?? '0644', 8));
    }
    // The runner writes the project's package.json after the seeds.
    fs.writeFileSync(at(`${PROJECT}/package.json`), '{}\n');
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('the SSH keys are real keys: ssh-keygen derives the .pub files from them', { skip: !has('ssh-keygen') }, () => {
    for (const key of ['id_ed25519', 'id_rsa']) {
      const derived = run('ssh-keygen', ['-y', '-f', at(`${HOME}/.ssh/${key}`)]).trim();
      const pub = fs.readFileSync(at(`${HOME}/.ssh/${key}.pub`), 'utf8').trim();
      assert.equal(derived.split(' ').slice(0, 2).join(' '), pub.split(' ').slice(0, 2).join(' '));
      assert.equal(pub.split(' ')[2], 'alex@alex-thinkpad');
    }
    assert.match(fs.readFileSync(at(`${HOME}/.ssh/id_ed25519`), 'utf8'), /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    assert.match(fs.readFileSync(at(`${HOME}/.ssh/id_rsa`), 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const known = run('ssh-keygen', ['-F', 'github.com', '-f', at(`${HOME}/.ssh/known_hosts`)]);
    assert.match(known, /AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl/);
  });

  test('the browser stores are valid SQLite databases', { skip: !has('python3') }, () => {
    const dbs = decoys.files.filter((f) => /(Login Data|Cookies|cookies\.sqlite)$/.test(f.path)).map((f) => at(f.path));
    assert.equal(dbs.length, 5);
    const script =
      'import sqlite3,sys,json\nout=[]\nfor p in sys.argv[1:]:\n  c=sqlite3.connect("file:"+p+"?mode=ro",uri=True)\n' +
      '  out.append([c.execute("pragma integrity_check").fetchone()[0],[r[0] for r in c.execute("select name from sqlite_master where type=\'table\' order by name")]])\nprint(json.dumps(out))';
    const results = JSON.parse(run('python3', ['-c', script, ...dbs])) as [string, string[]][];
    for (const [check] of results) assert.equal(check, 'ok');
    assert.deepEqual(results.map(([, tables]) => tables.join(',')).sort(), [
      'cookies,meta',
      'cookies,meta',
      'logins,meta,sqlite_sequence',
      'logins,meta,sqlite_sequence',
      'moz_cookies',
    ]);
    const firefox = dbs.find((p) => p.endsWith('cookies.sqlite'))!;
    const value = run('python3', ['-c', 'import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute("select value from moz_cookies where name=\'_gitlab_session\'").fetchone()[0])', firefox]).trim();
    assert.ok(decoys.canaries.some((c) => c.value === value && c.source.endsWith('cookies.sqlite')));
  });

  test('the SQLite writer handles every value type and keeps indexes in order', { skip: !has('python3') }, () => {
    const file = at('/types.sqlite');
    fs.writeFileSync(
      file,
      sqliteDatabase([
        {
          name: 't',
          sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, a, b TEXT, UNIQUE (b, a))',
          rowidColumn: 0,
          rows: [
            [5, 13_350_000_000_000_000n, 'zeta'],
            [2, -1, 'alpha'],
            [9, 1.5, 'alpha'],
            [3, Buffer.from([0, 255]), null],
            [4, 0, 'x'.repeat(300)],
          ],
          indexes: [{ columns: [2, 1] }],
        },
      ]),
    );
    const out = run('python3', ['-c', 'import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);print(c.execute("pragma integrity_check").fetchone()[0]);print(c.execute("select id,typeof(a),a from t order by id").fetchall())', file]);
    assert.match(out, /^ok\n/);
    assert.match(out, /\(2, 'integer', -1\), \(3, 'blob', b'\\x00\\xff'\), \(4, 'integer', 0\), \(5, 'integer', 13350000000000000\), \(9, 'real', 1.5\)/);
  });

  test('the project is a git checkout with history; only the installed dependency shows as a change', { skip: !has('git') }, () => {
    const cwd = at(PROJECT);
    const git = (...args: string[]): string => run('git', ['-c', `safe.directory=${cwd}`, ...args], { cwd });
    assert.equal(git('log', '--format=%s').trim().split('\n').length, 3);
    assert.equal(git('status', '--porcelain').trim(), 'M package.json');
    assert.match(git('remote', 'get-url', 'origin').trim(), /^git@github\.com:alex-[a-z]+\/webapp\.git$/);
    git('fsck', '--full', '--strict');
    assert.match(git('check-ignore', '.env'), /\.env/);
  });

  test('the kube config CA is a real self-signed certificate', () => {
    const config = fs.readFileSync(at(`${HOME}/.kube/config`), 'utf8');
    const pem = Buffer.from(/certificate-authority-data: (\S+)/.exec(config)![1]!, 'base64').toString();
    const cert = new crypto.X509Certificate(pem);
    assert.equal(cert.subject, 'CN=kubernetes');
    assert.ok(cert.ca);
    assert.ok(cert.verify(cert.publicKey));
  });

  test('the MetaMask store is a LevelDB log with valid record checksums holding the vault', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the standard CRC-32C check value');
    const dir = at(`${HOME}/.config/google-chrome/Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn`);
    const log = fs.readFileSync(path.join(dir, '000003.log'));
    const unmask = (m: number): number => {
      const rot = (m - 0xa282ead8) >>> 0;
      return ((rot >>> 17) | (rot << 15)) >>> 0;
    };
    const length = log.readUInt16LE(4);
    assert.equal(log[6], 1, 'one FULL record');
    assert.equal(unmask(log.readUInt32LE(0)), crc32c(log.subarray(6, 7 + length)));
    const vault = decoys.canaries.find((c) => c.kind.startsWith('metamask'))!;
    assert.ok(log.toString('latin1').includes(`{\\"data\\":\\"${vault.value}\\"`));
    assert.equal(fs.readFileSync(path.join(dir, 'CURRENT'), 'utf8'), 'MANIFEST-000001\n');
    // A record longer than a block is split the way LevelDB splits it.
    const big = logFile([Buffer.alloc(40_000, 7)]);
    assert.equal(big[6], 2);
    assert.equal(big[32768 + 6], 4);
  });

  test('modes and times look like a home in use', () => {
    const byPath = new Map(decoys.files.map((f) => [f.path, f]));
    for (const key of ['.ssh/id_ed25519', '.ssh/id_rsa', '.aws/credentials', '.npmrc', '.git-credentials']) {
      assert.equal(byPath.get(`${HOME}/${key}`)?.mode, '0600', key);
    }
    assert.equal(byPath.get(`${HOME}/.ssh`)?.type, 'dir');
    assert.equal(byPath.get(`${HOME}/.ssh`)?.mode, '0700');
    const times = decoys.files.map((f) => f.mtime!);
    assert.ok(times.every((t) => t < NOW / 1000), 'nothing from the future');
    assert.ok(Math.max(...times) - Math.min(...times) > 30 * 86_400, 'spread over weeks');
    assert.ok(decoys.files.every((f) => f.path.startsWith(`${HOME}/`)));
  });
});

/** Decrypts Chrome's Linux "v10" values with the published key derivation. */
function chromeV10(blob: Buffer): Buffer {
  const key = crypto.pbkdf2Sync('peanuts', 'saltysalt', 1, 16, 'sha1');
  const d = crypto.createDecipheriv('aes-128-cbc', key, Buffer.alloc(16, ' '));
  return Buffer.concat([d.update(blob.subarray(3)), d.final()]);
}

/** Everything a stealer could get from a file: its bytes, its base64 values decoded, and each v10 value decrypted. */
function readable(content: Buffer): string {
  const text = content.toString('latin1');
  const parts = [text, ...[...text.matchAll(/"auth": "([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1'))];
  for (let i = content.indexOf('v10'); i !== -1; i = content.indexOf('v10', i + 1)) {
    for (const size of [16, 32, 48, 64, 80, 96, 112]) {
      try {
        parts.push(chromeV10(content.subarray(i, i + 3 + size)).toString('latin1'));
      } catch {
        // Not a value of this size.
      }
    }
  }
  return parts.join('\n');
}

describe('the real project laid out (--sandbox-root)', () => {
  test('only the ignored .env and the git metadata are planted in the project folder; the home is the same', () => {
    const base = { home: HOME, projectDir: PROJECT, user: 'alex', hostname: 'alex-thinkpad', projectPackageJson: { name: 'app', version: '1.0.0' }, now: NOW };
    const full = createDecoys({ ...base, random: seeded('same') }).files.map((f) => f.path);
    const real = createDecoys({ ...base, random: seeded('same'), realProject: true }).files.map((f) => f.path);
    const inProject = (paths: string[]) => paths.filter((p) => p.startsWith(`${PROJECT}/`)).map((p) => p.slice(PROJECT.length + 1));
    assert.ok(inProject(full).includes('src/index.js') && inProject(full).includes('README.md'));
    assert.deepEqual(inProject(real).filter((p) => p !== '.env' && !p.startsWith('.git/')), []);
    assert.ok(inProject(real).includes('.env') && inProject(real).includes('.git/config'));
    const home = (paths: string[]) => paths.filter((p) => !p.startsWith(`${PROJECT}/`));
    assert.deepEqual(home(real), home(full));
  });
});

describe('canaries', () => {
  test('every canary is in exactly the file or variable it names, and nowhere else', () => {
    const decoys = make();
    const files = new Map(
      decoys.files.filter((f) => f.type !== 'dir').map((f) => [f.path, readable(Buffer.from(f.content, f.encoding === 'base64' ? 'base64' : 'utf8'))]),
    );
    assert.ok(decoys.canaries.length >= 40);
    const ids = new Set(decoys.canaries.map((c) => c.id));
    assert.equal(ids.size, decoys.canaries.length);
    for (const canary of decoys.canaries) {
      assert.match(canary.id, /^k\d+$/);
      assert.ok(canary.value.length >= 16, `${canary.id} ${canary.kind} is long enough to be unmistakable`);
      const inFiles = [...files].filter(([, text]) => text.includes(canary.value)).map(([p]) => p);
      const inEnv = Object.entries(decoys.env).filter(([, v]) => v.includes(canary.value)).map(([k]) => `env:${k}`);
      assert.deepEqual([...inFiles, ...inEnv], [canary.source], `${canary.id} ${canary.kind}`);
    }
    for (const name of ['NPM_TOKEN', 'GITHUB_TOKEN', 'GH_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'NODE_AUTH_TOKEN']) {
      assert.ok(decoys.canaries.some((c) => c.source === `env:${name}` && c.value === decoys.env[name]), name);
    }
    const sources = new Set(decoys.canaries.map((c) => c.source.replace(`${HOME}/`, '~/')));
    for (const expected of [
      '~/.npmrc',
      '~/.pypirc',
      '~/.netrc',
      '~/.git-credentials',
      '~/.aws/credentials',
      '~/.config/gh/hosts.yml',
      '~/.docker/config.json',
      '~/.kube/config',
      '~/.ssh/id_ed25519',
      '~/.ssh/id_rsa',
      '~/.bash_history',
      '~/.zsh_history',
      '~/.claude/settings.json',
      '~/.claude.json',
      '~/.cursor/mcp.json',
      '~/code/webapp/.env',
      '~/.config/google-chrome/Default/Login Data',
      '~/.config/BraveSoftware/Brave-Browser/Default/Network/Cookies',
      '~/.config/Exodus/exodus.wallet/passphrase.json',
      '~/.electrum/wallets/default_wallet',
    ]) {
      assert.ok(sources.has(expected), `a canary in ${expected}`);
    }
  });

  test('two scans never share a value', () => {
    const a = make();
    const b = make();
    const values = new Set(a.canaries.map((c) => c.value));
    assert.deepEqual(b.canaries.filter((c) => values.has(c.value)), []);
    assert.notDeepEqual(a.files.find((f) => f.path.endsWith('.bash_history'))!.content, b.files.find((f) => f.path.endsWith('.bash_history'))!.content);
  });

  test('every random draw goes through the given source', () => {
    const a = make(seeded('x'));
    const b = make(seeded('x'));
    const tokens = (d: Decoys): string[] => d.canaries.filter((c) => !c.kind.startsWith('ssh')).map((c) => c.value);
    assert.deepEqual(tokens(a), tokens(b));
    assert.notDeepEqual(tokens(a), tokens(make(seeded('y'))));
  });
});
