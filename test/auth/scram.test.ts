/**
 * The SCRAM server exchange against RFC 7677's SCRAM-SHA-256 example (section 3): user
 * "user", password "pencil", the RFC's nonces and salt give the RFC's server-first message and
 * server signature; a wrong proof, a wrong nonce, channel binding and an unknown user fail.
 */
import { describe, expect, it } from 'vitest';
import { deriveCredential, deriveScramCredentials, ScramServerExchange } from '../../src/auth/scram.js';

const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const credential = deriveCredential('SCRAM-SHA-256', 'pencil', SALT, 4096);
const CLIENT_FIRST = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
const SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';

const exchange = () => new ScramServerExchange('SCRAM-SHA-256', (name) => (name === 'user' ? credential : undefined), () => SERVER_NONCE);
const text = (b: Buffer) => b.toString('utf8');

describe('SCRAM-SHA-256 (RFC 7677 example)', () => {
  it('answers the RFC server-first and server-final messages', () => {
    const x = exchange();
    const first = x.first(Buffer.from(CLIENT_FIRST));
    expect(first.ok && text(first.reply)).toBe('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    const final = x.final(Buffer.from(CLIENT_FINAL));
    expect(final).toEqual({ ok: true, user: 'user', reply: Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=') });
  });

  it('refuses a wrong proof, a wrong nonce, a second final, channel binding and an unknown user', () => {
    const wrongProof = exchange();
    wrongProof.first(Buffer.from(CLIENT_FIRST));
    expect(wrongProof.final(Buffer.from(CLIENT_FINAL.replace('p=dHzb', 'p=dHzc'))).ok).toBe(false);
    expect(wrongProof.final(Buffer.from(CLIENT_FINAL)).ok).toBe(false);
    const wrongNonce = exchange();
    wrongNonce.first(Buffer.from(CLIENT_FIRST));
    expect(wrongNonce.final(Buffer.from(CLIENT_FINAL.replace('k0,p=', 'k1,p='))).ok).toBe(false);
    expect(exchange().first(Buffer.from('p=tls-unique,,n=user,r=abc')).ok).toBe(false);
    const unknown = exchange();
    const first = unknown.first(Buffer.from('n,,n=someone,r=rOprNGfwEbeRWgbNEkqO'));
    // an unknown name still gets a salt (names are not revealed), then fails
    expect(first.ok).toBe(true);
    const final = unknown.final(Buffer.from(CLIENT_FINAL));
    expect(final.ok).toBe(false);
  });

  it('derives both mechanisms with fresh salts and at least 4096 iterations', () => {
    const a = deriveScramCredentials('pw');
    const b = deriveScramCredentials('pw');
    expect(Object.keys(a)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-512']);
    expect(a['SCRAM-SHA-256']!.iterations).toBeGreaterThanOrEqual(4096);
    expect(a['SCRAM-SHA-256']!.salt).not.toBe(b['SCRAM-SHA-256']!.salt);
    expect(Buffer.from(a['SCRAM-SHA-512']!.storedKey, 'base64')).toHaveLength(64);
  });
});
