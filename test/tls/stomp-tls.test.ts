/**
 * STOMP over TLS and over WSS (stomp.ssl_enabled, stomp.wss_enabled), with raw frames on a
 * `tls.connect` socket and on a `ws` WebSocket, and certificate login (stomp.ssl_cert_login).
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCerts, type ClientCert, type TestCerts } from './certs.js';
import { startTlsBroker, waitFor, type TlsTestBroker } from './broker.js';

let certs: TestCerts;
let b: TlsTestBroker;

beforeAll(async () => {
  certs = generateCerts(['alice', 'nobody-here']);
  b = await startTlsBroker(
    certs,
    { stomp: { port: 0, wsPort: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0, wssEnabled: true, wssPort: 0, sslCertLogin: true } },
    ['alice'],
  );
});
afterAll(async () => {
  await b?.stop();
  certs?.remove();
});

/** A STOMP client on a TLS socket that hands out frames (text up to NUL) as they arrive. */
class TlsStomp {
  readonly socket: TLSSocket;
  #buffer = '';
  #waiting: ((frame: string) => void)[] = [];
  #frames: string[] = [];

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let nul: number;
      while ((nul = this.#buffer.indexOf('\0')) >= 0) {
        const frame = this.#buffer.slice(0, nul).replace(/^\n+/, '');
        this.#buffer = this.#buffer.slice(nul + 1);
        const w = this.#waiting.shift();
        if (w) w(frame);
        else this.#frames.push(frame);
      }
    });
  }

  static open(port: number, client?: ClientCert): Promise<TlsStomp> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: [certs.ca], ...(client ? { cert: client.cert, key: client.key } : {}) }, () => resolve(new TlsStomp(socket)));
      socket.once('error', reject);
    });
  }

  send(frame: string): void {
    this.socket.write(frame + '\0');
  }

  next(): Promise<string> {
    const f = this.#frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no frame within 10 s')), 10_000);
      this.#waiting.push((frame) => {
        clearTimeout(t);
        resolve(frame);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function userOfPeerPort(port: number): string | undefined {
  return [...b.broker.core.connections.values()].find((c) => c.info.peerPort === port)?.info.user;
}

describe('STOMP over TLS', () => {
  it('CONNECT with login/passcode, SUBSCRIBE, SEND, MESSAGE', async () => {
    const s = await TlsStomp.open(b.port('stomps'));
    try {
      s.send('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n');
      expect(await s.next()).toMatch(/^CONNECTED\n/);
      s.send('SUBSCRIBE\nid:0\ndestination:/queue/tls-stomp\nreceipt:r1\n\n');
      expect(await s.next()).toMatch(/^RECEIPT\nreceipt-id:r1/);
      s.send('SEND\ndestination:/queue/tls-stomp\n\nover tls');
      const msg = await s.next();
      expect(msg).toMatch(/^MESSAGE\n/);
      expect(msg.endsWith('\n\nover tls')).toBe(true);
    } finally {
      s.close();
    }
  });

  it('ssl_cert_login: CONNECT without login/passcode is the certificate CN, not default_user', async () => {
    const s = await TlsStomp.open(b.port('stomps'), certs.clients['alice']);
    try {
      s.send('CONNECT\naccept-version:1.2\nhost:/\n\n');
      expect(await s.next()).toMatch(/^CONNECTED\n/);
      expect(userOfPeerPort(s.socket.localPort!)).toBe('alice');
    } finally {
      s.close();
    }
  });

  it('ssl_cert_login with a CN that is no user: ERROR Bad CONNECT', async () => {
    const s = await TlsStomp.open(b.port('stomps'), certs.clients['nobody-here']);
    try {
      s.send('CONNECT\naccept-version:1.2\nhost:/\n\n');
      const frame = await s.next();
      expect(frame).toMatch(/^ERROR\n/);
      expect(frame).toMatch(/message:Bad CONNECT/);
    } finally {
      s.close();
    }
  });

  it('without a certificate, CONNECT without login is the default user', async () => {
    const s = await TlsStomp.open(b.port('stomps'));
    try {
      s.send('CONNECT\naccept-version:1.2\nhost:/\n\n');
      expect(await s.next()).toMatch(/^CONNECTED\n/);
      expect(userOfPeerPort(s.socket.localPort!)).toBe('guest');
    } finally {
      s.close();
    }
  });
});

describe('STOMP over WSS', () => {
  function open(client?: ClientCert): Promise<{ ws: WebSocket; next: () => Promise<string> }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${b.port('stomp-wss')}/ws`, ['v12.stomp'], { ca: [certs.ca], ...(client ? { cert: client.cert, key: client.key } : {}) });
      const frames: string[] = [];
      const waiting: ((f: string) => void)[] = [];
      ws.on('message', (data) => {
        const f = data.toString().replace(/\0\n?$/, '');
        const w = waiting.shift();
        if (w) w(f);
        else frames.push(f);
      });
      const next = () => (frames.length > 0 ? Promise.resolve(frames.shift()!) : new Promise<string>((r) => waiting.push(r)));
      ws.once('open', () => resolve({ ws, next }));
      ws.once('error', reject);
    });
  }

  it('CONNECT, SUBSCRIBE, SEND, MESSAGE over wss://', async () => {
    const { ws, next } = await open();
    try {
      ws.send('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
      expect(await next()).toMatch(/^CONNECTED\n/);
      ws.send('SUBSCRIBE\nid:0\ndestination:/queue/tls-wss\nreceipt:r1\n\n\0');
      expect(await next()).toMatch(/^RECEIPT\n/);
      ws.send('SEND\ndestination:/queue/tls-wss\n\nover wss\0');
      const msg = await next();
      expect(msg).toMatch(/^MESSAGE\n/);
      expect(msg.endsWith('\n\nover wss')).toBe(true);
    } finally {
      ws.close();
    }
  });

  it('ssl_cert_login over wss://', async () => {
    const alices = () => [...b.broker.core.connections.values()].filter((c) => c.info.protocol.startsWith('stomp') && c.info.user === 'alice');
    await waitFor(() => alices().length === 0, 10_000, 'the TLS tests\' connections to end');
    const { ws, next } = await open(certs.clients['alice']);
    try {
      ws.send('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
      const connected = await next();
      expect(connected).toMatch(/^CONNECTED\n/);
      expect(alices().length).toBe(1);
    } finally {
      ws.close();
    }
  });
});
