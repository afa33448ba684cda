/**
 * Browser profiles as infostealers find them on Linux: Chrome and Brave keep saved passwords
 * and cookies in SQLite, encrypted with the "v10" scheme whose key is the well-known
 * PBKDF2("peanuts", "saltysalt") when no keyring is in use, so a stealer that decrypts gets
 * exactly the canary. Firefox keeps cookies in plain text and logins in logins.json (values
 * encrypted under key4.db, which is left out: the encrypted strings are the canaries there).
 */
import crypto from 'node:crypto';
import type { DecoyBuilder } from './builder.js';
import { BASE62, password } from './formats.js';
import { sqliteDatabase, type SqlValue } from './sqlite.js';

const CHROME_EPOCH_OFFSET = 11_644_473_600n;

/** Chrome stores times as microseconds since 1601-01-01. */
function chromeTime(unix: number): bigint {
  return (BigInt(Math.floor(unix)) + CHROME_EPOCH_OFFSET) * 1_000_000n;
}

let v10Key: Buffer | undefined;

/** Chrome's Linux encryption without a keyring ("v10"). */
export function chromeV10Encrypt(plain: Buffer): Buffer {
  v10Key ??= crypto.pbkdf2Sync('peanuts', 'saltysalt', 1, 16, 'sha1');
  const cipher = crypto.createCipheriv('aes-128-cbc', v10Key, Buffer.alloc(16, 0x20));
  return Buffer.concat([Buffer.from('v10'), cipher.update(plain), cipher.final()]);
}

export function chromeV10Decrypt(blob: Buffer): Buffer {
  v10Key ??= crypto.pbkdf2Sync('peanuts', 'saltysalt', 1, 16, 'sha1');
  const decipher = crypto.createDecipheriv('aes-128-cbc', v10Key, Buffer.alloc(16, 0x20));
  return Buffer.concat([decipher.update(blob.subarray(3)), decipher.final()]);
}

const LOGINS_SQL =
  'CREATE TABLE logins (origin_url VARCHAR NOT NULL, action_url VARCHAR, username_element VARCHAR, username_value VARCHAR, password_element VARCHAR, password_value BLOB, submit_element VARCHAR, signon_realm VARCHAR NOT NULL, date_created INTEGER NOT NULL, blacklisted_by_user INTEGER NOT NULL, scheme INTEGER NOT NULL, password_type INTEGER, times_used INTEGER, form_data BLOB, display_name VARCHAR, icon_url VARCHAR, federation_url VARCHAR, skip_zero_click INTEGER, generation_upload_status INTEGER, possible_username_pairs BLOB, id INTEGER PRIMARY KEY AUTOINCREMENT, date_last_used INTEGER NOT NULL DEFAULT 0, moving_blocked_for BLOB, date_password_modified INTEGER NOT NULL DEFAULT 0, UNIQUE (origin_url, username_element, username_value, password_element, signon_realm))';

const COOKIES_SQL =
  'CREATE TABLE cookies(creation_utc INTEGER NOT NULL,host_key TEXT NOT NULL,top_frame_site_key TEXT NOT NULL,name TEXT NOT NULL,value TEXT NOT NULL,encrypted_value BLOB NOT NULL,path TEXT NOT NULL,expires_utc INTEGER NOT NULL,is_secure INTEGER NOT NULL,is_httponly INTEGER NOT NULL,last_access_utc INTEGER NOT NULL,has_expires INTEGER NOT NULL,is_persistent INTEGER NOT NULL,priority INTEGER NOT NULL,samesite INTEGER NOT NULL,source_scheme INTEGER NOT NULL,source_port INTEGER NOT NULL,last_update_utc INTEGER NOT NULL,source_type INTEGER NOT NULL,has_cross_site_ancestor INTEGER NOT NULL)';

const META_SQL = 'CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)';

function meta(version: number): { name: string; sql: string; rows: SqlValue[][]; indexes: { columns: number[] }[] } {
  return {
    name: 'meta',
    sql: META_SQL,
    rows: [
      ['mmap_status', '-1'],
      ['version', String(version)],
      ['last_compatible_version', String(version)],
    ],
    indexes: [{ columns: [0] }],
  };
}

interface SavedLogin {
  origin: string;
  realm: string;
  username: string;
  password: string;
}

function loginData(b: DecoyBuilder, logins: SavedLogin[]): Buffer {
  const rows = logins.map((l, i) => {
    const created = b.ago(30, 400);
    const row: SqlValue[] = [
      l.origin,
      l.origin,
      'login',
      l.username,
      'password',
      chromeV10Encrypt(Buffer.from(l.password)),
      '',
      l.realm,
      chromeTime(created),
      0,
      0,
      0,
      b.rand.between(1, 40),
      Buffer.alloc(0),
      '',
      '',
      '',
      0,
      0,
      Buffer.alloc(0),
      i + 1,
      chromeTime(b.ago(0.5, 20)),
      null,
      chromeTime(created),
    ];
    return row;
  });
  return sqliteDatabase([
    meta(40),
    {
      name: 'logins',
      sql: LOGINS_SQL,
      rows,
      rowidColumn: 20,
      autoincrement: true,
      indexes: [
        { columns: [0, 2, 3, 4, 7] },
        { name: 'logins_signon', sql: 'CREATE INDEX logins_signon ON logins (signon_realm)', columns: [7] },
      ],
    },
  ]);
}

interface Cookie {
  host: string;
  name: string;
  value: string;
}

function cookiesDb(b: DecoyBuilder, cookies: Cookie[]): Buffer {
  const rows = cookies.map((c): SqlValue[] => {
    const created = b.ago(1, 30);
    // From database version 24 on, Chrome binds each value to its host with a SHA-256 prefix.
    const plain = Buffer.concat([crypto.createHash('sha256').update(c.host).digest(), Buffer.from(c.value)]);
    return [
      chromeTime(created),
      c.host,
      '',
      c.name,
      '',
      chromeV10Encrypt(plain),
      '/',
      chromeTime(created + 365 * 86_400),
      1,
      1,
      chromeTime(b.ago(0.02, 1)),
      1,
      1,
      1,
      1,
      2,
      443,
      chromeTime(created),
      0,
      0,
    ];
  });
  return sqliteDatabase([
    meta(24),
    {
      name: 'cookies',
      sql: COOKIES_SQL,
      rows,
      indexes: [
        {
          name: 'cookies_unique_index',
          sql: 'CREATE UNIQUE INDEX cookies_unique_index ON cookies(host_key, top_frame_site_key, has_cross_site_ancestor, name, path, source_scheme, source_port)',
          columns: [1, 2, 19, 3, 6, 15, 16],
        },
      ],
    },
  ]);
}

function chromium(b: DecoyBuilder, root: string, label: string): void {
  const profile = `${root}/Default`;
  const pw = password(b.rand, 18);
  const corpPw = password(b.rand, 16);
  b.secret(pw, `${profile}/Login Data`, `${label} saved password (v10-encrypted in the file)`);
  b.secret(corpPw, `${profile}/Login Data`, `${label} saved password (v10-encrypted in the file)`);
  b.file(
    `${profile}/Login Data`,
    loginData(b, [
      { origin: 'https://github.com/session', realm: 'https://github.com/', username: b.id.email, password: pw },
      { origin: 'https://console.acme.example/login', realm: 'https://console.acme.example/', username: b.id.user, password: corpPw },
    ]),
    { mode: '0600', mtime: b.ago(0.5, 10) },
  );
  const session = b.rand.chars(`${BASE62}-_`, 48);
  const corpSession = b.rand.hex(32);
  b.secret(session, `${profile}/Network/Cookies`, `${label} session cookie (v10-encrypted in the file)`);
  b.secret(corpSession, `${profile}/Network/Cookies`, `${label} session cookie (v10-encrypted in the file)`);
  b.file(
    `${profile}/Network/Cookies`,
    cookiesDb(b, [
      { host: 'github.com', name: 'user_session', value: session },
      { host: '.github.com', name: 'logged_in', value: 'yes' },
      { host: 'console.acme.example', name: 'sid', value: corpSession },
    ]),
    { mode: '0600', mtime: b.ago(0.01, 0.5) },
  );
  b.file(
    `${root}/Local State`,
    `${JSON.stringify({
      browser: { enabled_labs_experiments: [], last_redirect_origin: '' },
      profile: { info_cache: { Default: { name: 'Person 1', user_name: b.id.email, is_using_default_name: true } }, last_used: 'Default' },
    })}`,
    { mode: '0600', mtime: b.ago(0.01, 1) },
  );
}

function firefoxEncrypted(b: DecoyBuilder, plainLength: number): string {
  // PK11SDR format: key id F8000…01, 3DES-CBC with an 8-byte IV, then the ciphertext.
  const cipherLength = (Math.floor(plainLength / 8) + 1) * 8;
  const der = Buffer.concat([
    Buffer.from([0x30, 0x3a + (cipherLength - 16), 0x04, 0x10, 0xf8, ...new Array(14).fill(0), 0x01]),
    Buffer.from('301406082a864886f70d0307', 'hex'),
    Buffer.from([0x04, 0x08]),
    b.rand.bytes(8),
    Buffer.from([0x04, cipherLength]),
    b.rand.bytes(cipherLength),
  ]);
  return der.toString('base64');
}

function firefox(b: DecoyBuilder): void {
  const dir = `${b.rand.chars('abcdefghijklmnopqrstuvwxyz0123456789', 8)}.default-release`;
  const root = '.mozilla/firefox';
  b.file(
    `${root}/profiles.ini`,
    `[Install4F96D1932A9F858E]\nDefault=${dir}\nLocked=1\n\n[Profile0]\nName=default-release\nIsRelative=1\nPath=${dir}\nDefault=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n`,
    { mtime: b.ago(200, 500) },
  );
  const user = firefoxEncrypted(b, b.id.email.length);
  const pass = firefoxEncrypted(b, 20);
  b.secret(user, `${root}/${dir}/logins.json`, 'firefox saved login (encrypted username)');
  b.secret(pass, `${root}/${dir}/logins.json`, 'firefox saved login (encrypted password)');
  const created = Math.floor(b.ago(40, 300) * 1000);
  b.file(
    `${root}/${dir}/logins.json`,
    JSON.stringify({
      nextId: 2,
      logins: [
        {
          id: 1,
          hostname: 'https://gitlab.acme.example',
          httpRealm: null,
          formSubmitURL: 'https://gitlab.acme.example',
          usernameField: 'user[login]',
          passwordField: 'user[password]',
          encryptedUsername: user,
          encryptedPassword: pass,
          guid: `{${b.rand.uuid()}}`,
          encType: 1,
          timeCreated: created,
          timeLastUsed: created + b.rand.int(20 * 86_400_000),
          timePasswordChanged: created,
          timesUsed: b.rand.between(2, 30),
        },
      ],
      potentiallyVulnerablePasswords: [],
      dismissedBreachAlertsByLoginGUID: {},
      version: 3,
    }),
    { mode: '0600', mtime: b.ago(2, 30) },
  );
  const cookie = b.rand.chars(`${BASE62}`, 40);
  b.secret(cookie, `${root}/${dir}/cookies.sqlite`, 'firefox session cookie');
  const now = b.now;
  const micro = (t: number): bigint => BigInt(Math.floor(t)) * 1_000_000n;
  b.file(
    `${root}/${dir}/cookies.sqlite`,
    sqliteDatabase(
      [
        {
          name: 'moz_cookies',
          sql: "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL DEFAULT '', name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, lastAccessed INTEGER, creationTime INTEGER, isSecure INTEGER, isHttpOnly INTEGER, inBrowserElement INTEGER DEFAULT 0, sameSite INTEGER DEFAULT 0, rawSameSite INTEGER DEFAULT 0, schemeMap INTEGER DEFAULT 0, isPartitionedAttributeSet INTEGER DEFAULT 0, CONSTRAINT moz_uniqueid UNIQUE (name, host, path, originAttributes))",
          rowidColumn: 0,
          rows: [
            [1, '', '_gitlab_session', cookie, 'gitlab.acme.example', '/', Math.floor(now + 14 * 86_400) * 1000, micro(b.ago(0.01, 1)), micro(b.ago(2, 10)), 1, 1, 0, 0, 0, 2, 0],
            [2, '', 'preferred_language', 'en', 'gitlab.acme.example', '/', Math.floor(now + 300 * 86_400) * 1000, micro(b.ago(0.01, 1)), micro(b.ago(20, 60)), 1, 0, 0, 0, 0, 2, 0],
          ],
          indexes: [{ columns: [2, 4, 5, 1] }],
        },
      ],
      { userVersion: 14 },
    ),
    { mode: '0644', mtime: b.ago(0.01, 1) },
  );
}

export function plantBrowsers(b: DecoyBuilder): void {
  chromium(b, '.config/google-chrome', 'chrome');
  chromium(b, '.config/BraveSoftware/Brave-Browser', 'brave');
  firefox(b);
}
