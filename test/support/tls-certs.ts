// A certificate authority and a server certificate it signed, made with
// node:crypto alone: `openssl` is not on every machine Keyward's tests run on
// (a fresh one has only Node.js and npm). Node signs; the few DER structures
// of an X.509 v3 certificate (RFC 5280) are written out here. EC P-256 keys
// and ECDSA-with-SHA-256, which PostgreSQL's OpenSSL and Node's both take.

import { type KeyObject, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export interface Issued {
  /** The certificate, PEM. */
  cert: string;
  /** Its private key, PKCS#8 PEM. */
  key: string;
  /** Its serial number, as a revocation list names it. */
  serial: Buffer;
}

export interface Authority extends Issued {
  /** A server certificate this authority signed, for `names` (DNS names and IPv4 addresses). */
  issue(commonName: string, names: string[]): Issued;
  /** A certificate revocation list this authority signed, listing `revoked` (none: a list that revokes nothing), PEM. */
  revocationList(revoked: Issued[]): string;
}

// ---- DER (X.690): tag, length, contents ----

function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
const seq = (...parts: Buffer[]) => der(0x30, ...parts);
const set = (...parts: Buffer[]) => der(0x31, ...parts);
const explicit = (n: number, inner: Buffer) => der(0xa0 + n, inner);
const octets = (b: Buffer) => der(0x04, b);
const bits = (b: Buffer) => der(0x03, Buffer.from([0]), b);
/** A BIT STRING of named bits (keyUsage), its trailing zero bits left out as DER wants. */
const flags = (byte: number) => der(0x03, Buffer.from([Math.log2(byte & -byte), byte]));
const bool = (v: boolean) => der(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => der(0x0c, Buffer.from(s, 'utf8'));
/** A positive INTEGER from big-endian bytes (a leading zero when the top bit is set). */
const integer = (b: Buffer) => der(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const v of rest) {
    const groups = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) groups.unshift((x & 0x7f) | 0x80);
    out.push(...groups);
  }
  return der(0x06, Buffer.from(out));
}

/** UTCTime, YYMMDDHHMMSSZ (dates before 2050). */
function time(d: Date): Buffer {
  const iso = d.toISOString();
  return der(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** subjectAltName: dNSName [2] and iPAddress [7], both IMPLICIT. */
function altNames(names: string[]): Buffer {
  return seq(
    ...names.map((n) =>
      /^\d+\.\d+\.\d+\.\d+$/.test(n) ? der(0x87, Buffer.from(n.split('.').map(Number))) : der(0x82, Buffer.from(n, 'ascii')),
    ),
  );
}

/** A fresh serial number: 12 random bytes, the first neither 0 nor above 0x7f (so its DER INTEGER is minimal and positive). */
function serialNumber(): Buffer {
  const serial = randomBytes(12);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  return serial;
}

/** PEM: `der` in base64, 64 characters a line, between the label's lines. */
const pemOf = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;

function certificate(subject: string, issuer: string, publicKey: KeyObject, signer: KeyObject, extensions: Buffer[], serial: Buffer): string {
  const now = Date.now();
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ECDSA_SHA256,
    name(issuer),
    seq(time(new Date(now - 3_600_000)), time(new Date(now + 86_400_000))),
    name(subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(...extensions)),
  );
  return pemOf('CERTIFICATE', seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, signer))));
}

/** RFC 5280 §5's CertificateList (v2, no extensions): `issuer`'s list of the certificates of `serials`, current for a day. */
function revocationList(issuer: string, signer: KeyObject, serials: Buffer[]): string {
  const now = Date.now();
  const tbs = seq(
    integer(Buffer.from([1])), // v2
    ECDSA_SHA256,
    name(issuer),
    time(new Date(now - 3_600_000)), // thisUpdate
    time(new Date(now + 86_400_000)), // nextUpdate
    ...(serials.length > 0 ? [seq(...serials.map((serial) => seq(integer(serial), time(new Date(now - 60_000)))))] : []),
  );
  return pemOf('X509 CRL', seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, signer))));
}

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;

/** A self-signed certificate authority named `commonName`. */
export function makeAuthority(commonName: string): Authority {
  const ca = pair();
  const serial = serialNumber();
  const cert = certificate(
    commonName,
    commonName,
    ca.publicKey,
    ca.privateKey,
    [
      extension('2.5.29.19', true, seq(bool(true))), // basicConstraints: CA
      extension('2.5.29.15', true, flags(0x06)), // keyUsage: keyCertSign, cRLSign
    ],
    serial,
  );
  return {
    cert,
    key: pem(ca.privateKey),
    serial,
    issue(subject, names) {
      const leaf = pair();
      const serial = serialNumber();
      return {
        cert: certificate(
          subject,
          commonName,
          leaf.publicKey,
          ca.privateKey,
          [
            extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
            extension('2.5.29.15', true, flags(0x80)), // keyUsage: digitalSignature
            extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
            extension('2.5.29.17', false, altNames(names)),
          ],
          serial,
        ),
        key: pem(leaf.privateKey),
        serial,
      };
    },
    revocationList: (revoked) => revocationList(commonName, ca.privateKey, revoked.map((c) => c.serial)),
  };
}
