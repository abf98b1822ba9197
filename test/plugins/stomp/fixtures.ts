/**
 * Golden STOMP frames: exact bytes and the frame they are. `NUL` is written as \0. Used by
 * frame.test.ts in both directions (bytes → frame, frame → bytes) where the encoding is
 * canonical; parse-only fixtures exercise what a server must accept but never sends.
 */
import type { StompVersion } from '../../../plugins/stomp/frame.js';

export interface Fixture {
  name: string;
  /** the version the parser/serializer is set to; null: before CONNECT */
  version: StompVersion | null;
  bytes: string | Buffer;
  command: string;
  headers: [string, string][];
  body: string | Buffer;
  /** the serializer produces exactly these bytes from the frame */
  canonical: boolean;
}

export const FIXTURES: Fixture[] = [
  {
    name: 'CONNECT 1.2 with heart-beat',
    version: null,
    bytes: 'CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:10000,10000\n\n\0',
    command: 'CONNECT',
    headers: [['accept-version', '1.2'], ['host', '/'], ['login', 'guest'], ['passcode', 'guest'], ['heart-beat', '10000,10000']],
    body: '',
    canonical: false,
  },
  {
    name: 'CONNECT headers are never unescaped (a passcode with a backslash)',
    version: null,
    bytes: 'CONNECT\naccept-version:1.2\nlogin:a\\cb\npasscode:p\\w:x\n\n\0',
    command: 'CONNECT',
    headers: [['accept-version', '1.2'], ['login', 'a\\cb'], ['passcode', 'p\\w:x']],
    body: '',
    canonical: false,
  },
  {
    name: 'CONNECTED is never escaped on the way out',
    version: '1.2',
    bytes: 'CONNECTED\nversion:1.2\nsession:session-1\nserver:Warren/0.1.0\nheart-beat:0,0\n\n\0',
    command: 'CONNECTED',
    headers: [['version', '1.2'], ['session', 'session-1'], ['server', 'Warren/0.1.0'], ['heart-beat', '0,0']],
    body: '',
    canonical: true,
  },
  {
    name: 'SEND 1.2 with every escape',
    version: '1.2',
    bytes: 'SEND\ndestination:/queue/a\nk\\cey:line\\none\\r\\\\two\\c3\ncontent-length:5\n\nhello\0',
    command: 'SEND',
    headers: [['destination', '/queue/a'], ['k:ey', 'line\none\r\\two:3']],
    body: 'hello',
    canonical: true,
  },
  {
    name: 'SEND 1.1 escaping (no \\r escape; CR passes through raw)',
    version: '1.1',
    bytes: 'SEND\ndestination:/queue/a\nx:a\\nb\\cc\\\\d\ncontent-length:2\n\nhi\0',
    command: 'SEND',
    headers: [['destination', '/queue/a'], ['x', 'a\nb:c\\d']],
    body: 'hi',
    canonical: true,
  },
  {
    name: 'SEND 1.0: backslashes are literal, colons after the first are the value',
    version: '1.0',
    bytes: 'SEND\ndestination:/queue/a\nx:a\\nb:c\ncontent-length:2\n\nhi\0',
    command: 'SEND',
    headers: [['destination', '/queue/a'], ['x', 'a\\nb:c']],
    body: 'hi',
    canonical: true,
  },
  {
    name: 'a body holding NULs, framed by content-length',
    version: '1.2',
    bytes: Buffer.from('MESSAGE\ndestination:/queue/b\ncontent-length:5\n\na\0b\0c\0', 'latin1'),
    command: 'MESSAGE',
    headers: [['destination', '/queue/b']],
    body: Buffer.from('a\0b\0c', 'latin1'),
    canonical: true,
  },
  {
    name: 'a body without content-length ends at the first NUL',
    version: '1.2',
    bytes: 'SEND\ndestination:/queue/c\n\nno length\0',
    command: 'SEND',
    headers: [['destination', '/queue/c']],
    body: 'no length',
    canonical: false,
  },
  {
    name: '1.2 CRLF line endings',
    version: '1.2',
    bytes: 'SEND\r\ndestination:/queue/d\r\nreceipt:77\r\n\r\nbody\0',
    command: 'SEND',
    headers: [['destination', '/queue/d'], ['receipt', '77']],
    body: 'body',
    canonical: false,
  },
  {
    name: 'repeated header: the first wins',
    version: '1.2',
    bytes: 'MESSAGE\nfoo:World\nfoo:Hello\n\n\0',
    command: 'MESSAGE',
    headers: [['foo', 'World']],
    body: '',
    canonical: false,
  },
  {
    name: '1.0 values are trimmed on the left',
    version: '1.0',
    bytes: 'SUBSCRIBE\ndestination: /queue/e\nack:  client\n\n\0',
    command: 'SUBSCRIBE',
    headers: [['destination', '/queue/e'], ['ack', 'client']],
    body: '',
    canonical: false,
  },
  {
    name: 'UTF-8 in headers and body',
    version: '1.2',
    bytes: Buffer.from('SEND\ndestination:/queue/ünï\nnote:日本語\ncontent-length:6\n\nçé\u00e0\0', 'utf8'),
    command: 'SEND',
    headers: [['destination', '/queue/ünï'], ['note', '日本語']],
    body: 'çéà',
    canonical: true,
  },
  {
    name: 'an empty header value and an empty name',
    version: '1.2',
    bytes: 'SEND\nempty:\n:nameless\n\n\0',
    command: 'SEND',
    headers: [['empty', ''], ['', 'nameless']],
    body: '',
    canonical: true,
  },
];

/** Input that must be refused with a FrameError whose summary is given. */
export const BAD_INPUT: { name: string; version: '1.0' | '1.1' | '1.2' | null; bytes: string; summary: string }[] = [
  { name: 'undefined escape \\t (1.2)', version: '1.2', bytes: 'SEND\nx:a\\tb\n\n\0', summary: 'Bad header' },
  { name: '\\r is not an escape in 1.1', version: '1.1', bytes: 'SEND\nx:a\\rb\n\n\0', summary: 'Bad header' },
  { name: 'a trailing backslash', version: '1.2', bytes: 'SEND\nx:ab\\\n\n\0', summary: 'Bad header' },
  { name: 'header line without a colon', version: '1.2', bytes: 'SEND\nnocolon\n\n\0', summary: 'Bad header' },
  { name: 'content-length not a number', version: '1.2', bytes: 'SEND\ncontent-length:abc\n\n\0', summary: 'Invalid content-length' },
  { name: 'negative content-length', version: '1.2', bytes: 'SEND\ncontent-length:-1\n\n\0', summary: 'Invalid content-length' },
  { name: 'no NUL after content-length bytes', version: '1.2', bytes: 'SEND\ncontent-length:2\n\nabc\0', summary: 'Bad frame' },
];
