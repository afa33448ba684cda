/**
 * Crypto wallets where stealers look: Exodus (seed.seco, and passphrase.json, which Exodus
 * keeps when no password is set), an unencrypted Electrum wallet (the xprv is the canary), and
 * MetaMask's vault inside Chrome's extension storage (LevelDB). Encrypted parts are random
 * bytes of the right size: nobody can tell them from real ciphertext without the password,
 * and we never make one that a cracker could open.
 */
import crypto from 'node:crypto';
import type { DecoyBuilder } from './builder.js';
import { bip32MasterKeys } from './formats.js';
import { levelDb } from './leveldb.js';

export const METAMASK_EXTENSION_ID = 'nkbihfbeogaeaoehlefnkodbefgpgknn';

function padded(text: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  out.write(text, 'latin1');
  return out;
}

function exodus(b: DecoyBuilder): void {
  const dir = '.config/Exodus/exodus.wallet';
  const when = b.ago(60, 300);
  const sealed = (size: number): Buffer => {
    const body = Buffer.concat([b.rand.bytes(32), b.rand.bytes(12), b.rand.bytes(16), b.rand.bytes(size)]);
    const header = Buffer.concat([
      Buffer.from('SECO'),
      Buffer.alloc(4),
      Buffer.alloc(4),
      padded('seco-v0-scrypt-aes', 32),
      padded('Exodus', 32),
      padded('24.41.3', 32),
    ]);
    return Buffer.concat([header, crypto.createHash('sha256').update(body).digest(), body]);
  };
  b.file(`${dir}/seed.seco`, sealed(160), { mode: '0600', mtime: when });
  b.file(`${dir}/info.seco`, sealed(96), { mode: '0600', mtime: when });
  b.file(`${dir}/storage.seco`, sealed(1024 + b.rand.int(2048)), { mode: '0600', mtime: b.ago(0.5, 10) });
  const passphrase = b.secret(b.rand.hex(32), `${dir}/passphrase.json`, 'exodus wallet passphrase');
  b.file(`${dir}/passphrase.json`, JSON.stringify({ passphrase }), { mode: '0600', mtime: when });
}

function electrum(b: DecoyBuilder): void {
  const { xprv, xpub } = bip32MasterKeys(b.rand);
  b.secret(xprv, '.electrum/wallets/default_wallet', 'electrum wallet master private key');
  const wallet = {
    addr_history: {},
    addresses: { change: [], receiving: [] },
    channel_backups: {},
    fiat_value: {},
    invoices: {},
    keystore: { pw_hash_version: 1, root_fingerprint: b.rand.hex(4), type: 'bip32', xprv, xpub },
    labels: {},
    payment_requests: {},
    seed_version: 59,
    spent_outpoints: {},
    stored_height: 840_000 + b.rand.int(60_000),
    transactions: {},
    tx_fees: {},
    txi: {},
    txo: {},
    use_encryption: false,
    verified_tx3: {},
    wallet_type: 'standard',
  };
  const when = b.ago(90, 500);
  b.file('.electrum/config', `${JSON.stringify({ config_version: 3, gui_last_wallet: `${b.id.home}/.electrum/wallets/default_wallet` }, null, 4)}`, {
    mtime: when,
  });
  b.file('.electrum/wallets/default_wallet', JSON.stringify(wallet, null, 4), { mode: '0600', mtime: when });
  b.dir('.electrum/wallets', { mode: '0700', mtime: when });
}

function metamask(b: DecoyBuilder): void {
  const dir = `.config/google-chrome/Default/Local Extension Settings/${METAMASK_EXTENSION_ID}`;
  const data = b.rand.bytes(720 + b.rand.int(400)).toString('base64');
  const vault = JSON.stringify({
    data,
    iv: b.rand.bytes(16).toString('base64'),
    keyMetadata: { algorithm: 'PBKDF2', params: { iterations: 600000 } },
    salt: b.rand.bytes(32).toString('base64'),
  });
  const address = `0x${b.rand.hex(20)}`;
  const state = {
    KeyringController: { vault },
    PreferencesController: { selectedAddress: address, identities: { [address]: { address, name: 'Account 1' } } },
    NetworkController: { selectedNetworkClientId: 'mainnet' },
  };
  const when = new Date(b.ago(30, 200) * 1000);
  const db = levelDb(
    [
      ['data', JSON.stringify(state)],
      ['meta', JSON.stringify({ version: 120 })],
    ],
    `${b.abs(dir)}`,
    when,
  );
  b.secret(data, `${dir}/${db.log}`, 'metamask vault (encrypted seed)');
  const mtime = b.ago(0.5, 20);
  for (const [name, content] of Object.entries(db.files)) b.file(`${dir}/${name}`, content, { mtime: name === db.log ? mtime : when.getTime() / 1000 });
}

export function plantWallets(b: DecoyBuilder): void {
  exodus(b);
  electrum(b);
  metamask(b);
}
