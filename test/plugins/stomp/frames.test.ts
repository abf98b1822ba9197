/**
 * Frame edge cases end to end over raw TCP, per version: header escaping in and out, bodies
 * holding NULs, CRLF line endings, heart-beats both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startStompBroker, uniqueName, type StompTestBroker } from './helpers.js';

let b: StompTestBroker;
beforeAll(async () => {
  b = await startStompBroker();
});
afterAll(async () => {
  await b?.stop();
});

/** Subscribe on `version`, send `raw` (a SEND to the queue, as bytes), return the MESSAGE as received. */
async function roundTrip(version: string, sendHeadersRaw: string, body: Buffer | string, contentLength: boolean) {
  const [c] = await RawClient.login(b.tcpPort, version);
  const q = uniqueName('esc');
  c.send('SUBSCRIBE', version === '1.0' ? { destination: `/queue/${q}` } : { destination: `/queue/${q}`, id: 's', receipt: 'sub' });
  if (version !== '1.0') await c.until('RECEIPT');
  const bodyBuf = Buffer.from(body);
  const cl = contentLength ? `content-length:${bodyBuf.length}\n` : '';
  c.write(Buffer.concat([Buffer.from(`SEND\ndestination:/queue/${q}\n${sendHeadersRaw}${cl}\n`), bodyBuf, Buffer.from([0])]));
  const m = await c.next();
  c.close();
  return m;
}

describe('header escaping per version', () => {
  it('1.2: \\r \\n \\c \\\\ are decoded on SEND and encoded again on MESSAGE', async () => {
    const m = await roundTrip('1.2', 'x-text:a\\cb\\nc\\rd\\\\e\n', 'x', true);
    expect(m.headers['x-text']).toBe('a\\cb\\nc\\rd\\\\e');
  });

  it('1.1: \\n \\c \\\\ are decoded and encoded; \\r is not an escape', async () => {
    const m = await roundTrip('1.1', 'x-text:a\\cb\\nc\\\\e\n', 'x', true);
    expect(m.headers['x-text']).toBe('a\\cb\\nc\\\\e');
    const [c] = await RawClient.login(b.tcpPort, '1.1');
    c.write('SEND\ndestination:/queue/x\nbad:\\r\n\n\0');
    const e = (await c.until('ERROR')).pop()!;
    expect(e.headers['message']).toBe('Bad header');
    await c.waitClosed();
  });

  it('1.0: backslashes are plain characters both ways', async () => {
    const m = await roundTrip('1.0', 'x-text:a\\cb\\nc\n', 'x', true);
    expect(m.headers['x-text']).toBe('a\\cb\\nc');
  });

  it('a colon inside a value: escaped in 1.1/1.2 MESSAGE frames, literal in 1.0', async () => {
    expect((await roundTrip('1.2', 'x-url:http\\c//h\n', 'x', true)).lines).toContainEqual(['x-url', 'http\\c//h']);
    expect((await roundTrip('1.1', 'x-url:http\\c//h\n', 'x', true)).lines).toContainEqual(['x-url', 'http\\c//h']);
    expect((await roundTrip('1.0', 'x-url:http://h\n', 'x', true)).lines).toContainEqual(['x-url', 'http://h']);
  });
});

describe('bodies', () => {
  for (const version of ['1.0', '1.1', '1.2']) {
    it(`${version}: a body holding NULs travels whole with content-length`, async () => {
      const body = Buffer.from([0, 1, 0, 0, 255, 0, 10, 0]);
      const m = await roundTrip(version, '', body, true);
      expect(m.body).toEqual(body);
      expect(m.headers['content-length']).toBe(String(body.length));
    });

    it(`${version}: a body without content-length ends at the NUL; MESSAGE always has content-length`, async () => {
      const m = await roundTrip(version, '', 'plain text body', false);
      expect(m.body.toString()).toBe('plain text body');
      expect(m.headers['content-length']).toBe('15');
    });
  }

  it('an empty body', async () => {
    const m = await roundTrip('1.2', '', '', false);
    expect(m.body.length).toBe(0);
    expect(m.headers['content-length']).toBe('0');
  });

  it('a 1 MiB body in one frame', async () => {
    const body = Buffer.alloc(1024 * 1024, 0x5a);
    body[12345] = 0;
    const m = await roundTrip('1.2', '', body, true);
    expect(m.body.equals(body)).toBe(true);
  });

  it('1.2 frames with CRLF line endings and EOLs between frames', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const q = uniqueName('crlf');
    c.write(`\r\n\nSUBSCRIBE\r\ndestination:/queue/${q}\r\nid:1\r\n\r\n\0\r\n\r\nSEND\r\ndestination:/queue/${q}\r\n\r\ncr lf\0\n`);
    const m = await c.next();
    expect(m.command).toBe('MESSAGE');
    expect(m.body.toString()).toBe('cr lf');
    c.close();
  });
});

describe('heart-beats', () => {
  it('the server beats at the interval the client asked for (raised to the floor)', async () => {
    const [c, connected] = await RawClient.login(b.tcpPort, '1.2', { 'heart-beat': '0,100' });
    expect(connected.headers['heart-beat']).toBe('100,0');
    await new Promise((r) => setTimeout(r, 800));
    // about 8 beats in 800 ms; timers are not exact on a loaded machine
    expect(c.heartbeats).toBeGreaterThanOrEqual(4);
    expect(c.heartbeats).toBeLessThanOrEqual(12);
    c.close();
  });

  it('a client silent past its promised interval is disconnected; one that beats is not', async () => {
    const [silent, f] = await RawClient.login(b.tcpPort, '1.2', { 'heart-beat': '100,0' });
    expect(f.headers['heart-beat']).toBe('0,100');
    const [beating] = await RawClient.login(b.tcpPort, '1.2', { 'heart-beat': '100,0' });
    const timer = setInterval(() => beating.write('\n'), 25);
    await silent.waitClosed(3000);
    expect(beating.closed).toBe(false);
    clearInterval(timer);
    // frames count as beats too
    const q = uniqueName('hb');
    const t2 = setInterval(() => beating.send('SEND', { destination: `/queue/${q}` }, 'x'), 25);
    await new Promise((r) => setTimeout(r, 500));
    expect(beating.closed).toBe(false);
    clearInterval(t2);
    beating.close();
  });

  it('the floor (min_heartbeat) applies both ways', async () => {
    const strict = await startStompBroker({ min_heartbeat: 1000 });
    try {
      const [c, f] = await RawClient.login(strict.tcpPort, '1.2', { 'heart-beat': '10,10' });
      expect(f.headers['heart-beat']).toBe('1000,1000');
      c.close();
    } finally {
      await strict.stop();
    }
  });

  it('1.0 has no heart-beats; an invalid heart-beat header is an error', async () => {
    const [c, f] = await RawClient.login(b.tcpPort, '1.0', { 'heart-beat': '10,10' });
    expect(f.headers['heart-beat']).toBeUndefined();
    expect(await c.quiet(150)).toBe(true);
    expect(c.heartbeats).toBe(0);
    c.close();
    const d = await RawClient.connect(b.tcpPort);
    d.send('CONNECT', { 'accept-version': '1.2', 'heart-beat': 'often' });
    expect((await d.next()).headers['message']).toBe('Invalid heart-beat header');
    await d.waitClosed();
  });
});
