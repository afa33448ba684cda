/**
 * What a TLS client sent, read record by record from the bytes on the wire: which of them could
 * be read in clear and which were sealed. A record is a 5-byte header (content type, version,
 * length) and its body.
 *
 * In clear, before a ChangeCipherSpec: handshake messages (the ClientHello; TLS 1.2's
 * ClientKeyExchange, Certificate) and alerts. Sealed: application data (TLS 1.3 sends its
 * encrypted handshake, alerts and early data with that outer type), every record after a
 * ChangeCipherSpec (TLS 1.2 encrypts from there on), and anything that is not a TLS record.
 */

const CHANGE_CIPHER_SPEC = 20;
const ALERT = 21;
const HANDSHAKE = 22;
const APPLICATION_DATA = 23;

export interface ClientRecords {
  /** Bytes (headers included) of records whose content is readable as sent. */
  clear: number;
  /** Bytes that were encrypted, or are not TLS records at all. */
  sealed: number;
}

export function clientRecords(wire: Buffer): ClientRecords {
  let clear = 0;
  let sealed = 0;
  let encrypting = false;
  let at = 0;
  while (at < wire.length) {
    const type = wire[at]!;
    const known = type === CHANGE_CIPHER_SPEC || type === ALERT || type === HANDSHAKE || type === APPLICATION_DATA;
    // Too short for a header, or not a TLS record header: nothing from here on can be read.
    if (at + 5 > wire.length || !known || wire[at + 1] !== 3) {
      sealed += wire.length - at;
      break;
    }
    const size = Math.min(5 + wire.readUInt16BE(at + 3), wire.length - at);
    if (type === CHANGE_CIPHER_SPEC) {
      clear += size;
      encrypting = true;
    } else if (type === APPLICATION_DATA || encrypting) {
      sealed += size;
    } else {
      clear += size;
    }
    at += size;
  }
  return { clear, sealed };
}
