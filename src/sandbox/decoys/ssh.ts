/**
 * SSH keys in the files ssh-keygen writes: ed25519 in the openssh-key-v1 container (what
 * ssh-keygen has written since 7.8), and an older RSA key in PKCS#1 PEM (what it wrote before).
 * Both are real keys, so `ssh-keygen -y` and any parser accept them.
 */
import crypto, { type KeyObject } from 'node:crypto';
import type { Rand } from './random.js';

export interface SshKeyPair {
  /** The private key file as ssh-keygen writes it. */
  privateKey: string;
  /** The `.pub` line: `<type> <base64> <comment>`. */
  publicKey: string;
  /** One line of the private key file that holds private key material. */
  secretLine: string;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** An SSH wire-format string: uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([u32(buf.length), buf]);
}

/** An SSH mpint: big-endian, with a zero byte in front when the top bit would read as a sign. */
function mpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  return sshString(trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines.join('\n');
}

export function ed25519KeyPair(rand: Rand, comment: string): SshKeyPair {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  const pubBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  // The two equal check integers let ssh-keygen tell a wrong passphrase from a corrupt file.
  const check = rand.bytes(4);
  let priv = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const head = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    u32(1),
    sshString(pubBlob),
  ]);
  const body = Buffer.concat([head, sshString(priv)]);
  const lines = wrap(body.toString('base64'), 70).split('\n');
  // The 64-byte private key follows the check integers, the key type and the public key.
  const secretAt = head.length + 4 + 8 + 4 + 11 + 4 + 32 + 4;
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${pubBlob.toString('base64')} ${comment}\n`,
    secretLine: lines[Math.floor(((secretAt + 16) * 4) / 3 / 70)]!,
  };
}

/** RSA key generation takes a quarter second; callers may make one ahead, off the main thread. */
export function generateRsaKey(): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    crypto.generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, (err, _pub, priv) => {
      if (err) reject(err);
      else resolve(priv);
    });
  });
}

export function rsaKeyPair(comment: string, key?: KeyObject): SshKeyPair {
  const privateKey = key ?? crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 }).privateKey;
  const jwk = privateKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString('ssh-rsa'), mpint(Buffer.from(jwk.e!, 'base64url')), mpint(Buffer.from(jwk.n!, 'base64url'))]);
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const lines = pem.trim().split('\n');
  return {
    privateKey: pem,
    publicKey: `ssh-rsa ${blob.toString('base64')} ${comment}\n`,
    // Past the modulus and exponent, in the private exponent.
    secretLine: lines[Math.floor(lines.length / 2)]!,
  };
}

/** A `known_hosts` line as Debian's default `HashKnownHosts yes` writes it. */
export function hashedKnownHost(rand: Rand, host: string, keyLine: string): string {
  const salt = rand.bytes(20);
  const hash = crypto.createHmac('sha1', salt).update(host).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')} ${keyLine}`;
}

/** A random host key line for a made-up server. */
export function randomHostKey(): string {
  const { publicKey } = crypto.generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return `ssh-ed25519 ${Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]).toString('base64')}`;
}

/** github.com's published host keys (public, the same on every real machine). */
export const GITHUB_HOST_KEYS = [
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=',
];
