import { connect as netConnect } from 'node:net';

/**
 * A minimal STOMP 1.2 client for the bench: frames out as head string +
 * body buffer written into a corked socket (one writev per event-loop
 * turn), frames in through a small content-length-aware reader. It knows no
 * escaping beyond what the bench sends (plain ASCII header values), so that
 * the generator spends its CPU on messages, not on a general client.
 *
 * @typedef {{ command: string, headers: Record<string, string>, body: Buffer }} StompFrame
 */

const NUL_LF = Buffer.from([0, 10]);

export class StompWire {
  /**
   * @param {import('node:net').Socket} socket
   * @param {(frame: StompFrame) => void} onFrame
   */
  constructor(socket, onFrame) {
    this.socket = socket;
    this.onFrame = onFrame;
    /** @type {Buffer} */
    this.buf = Buffer.alloc(0);
    this.corked = false;
    this.uncork = () => {
      this.corked = false;
      this.socket.uncork();
    };
    socket.on('data', (chunk) => this.read(chunk));
  }

  /**
   * Connect and log in (STOMP 1.2); resolves with the wire and the CONNECTED frame's headers.
   * @param {string} url stomp://user:pass@host:port[/vhost]
   * @param {(frame: StompFrame) => void} onFrame frames after CONNECTED
   * @returns {Promise<StompWire>}
   */
  static open(url, onFrame) {
    const u = new URL(url);
    const vhost = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/';
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: u.hostname, port: Number(u.port || 61613) });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        /** @type {StompWire} */
        const wire = new StompWire(socket, (frame) => {
          if (frame.command === 'CONNECTED') {
            socket.off('error', reject);
            wire.onFrame = onFrame;
            resolve(wire);
          } else {
            reject(new Error(`${frame.command}: ${frame.headers.message ?? ''} ${frame.body.toString()}`));
          }
        });
        wire.send('CONNECT', {
          'accept-version': '1.2',
          host: vhost,
          login: decodeURIComponent(u.username || 'guest'),
          passcode: decodeURIComponent(u.password || 'guest'),
          'heart-beat': '0,0',
        });
      });
    });
  }

  /**
   * @param {string} command
   * @param {Record<string, string>} headers
   * @param {Buffer | null} [body]
   * @returns {boolean} false when the socket buffer is full (wait for 'drain')
   */
  send(command, headers, body = null) {
    let head = command + '\n';
    for (const name in headers) head += name + ':' + headers[name] + '\n';
    if (body !== null) head += 'content-length:' + body.length + '\n';
    head += '\n';
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(head);
    if (body !== null) this.socket.write(body);
    return this.socket.write(NUL_LF);
  }

  /** @param {Buffer} chunk */
  read(chunk) {
    let buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    for (;;) {
      while (pos < buf.length && (buf[pos] === 10 || buf[pos] === 13)) pos++;
      const headEnd = buf.indexOf('\n\n', pos);
      if (headEnd === -1) break;
      const lines = buf.toString('latin1', pos, headEnd).split('\n');
      const command = lines[0].replace(/\r$/, '');
      /** @type {Record<string, string>} */
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i];
        const colon = line.indexOf(':');
        const name = line.slice(0, colon);
        if (!(name in headers)) headers[name] = line.slice(colon + 1);
      }
      const bodyStart = headEnd + 2;
      const length = headers['content-length'];
      const bodyEnd = length !== undefined ? bodyStart + Number(length) : buf.indexOf(0, bodyStart);
      if (bodyEnd === -1 || bodyEnd >= buf.length) break;
      this.onFrame({ command, headers, body: buf.subarray(bodyStart, bodyEnd) });
      pos = bodyEnd + 1;
    }
    this.buf = pos >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
  }

  /** DISCONNECT with a receipt, then close; resolves when the socket has closed. */
  close() {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve(undefined);
      this.socket.once('close', () => resolve(undefined));
      this.onFrame = (frame) => {
        if (frame.command === 'RECEIPT') this.socket.end();
      };
      this.send('DISCONNECT', { receipt: 'bye' });
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }
}
