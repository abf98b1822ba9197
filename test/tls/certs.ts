/**
 * Throwaway certificates for the TLS tests, made with the openssl command line in a temp
 * directory: a CA, a server certificate for localhost / 127.0.0.1 / ::1, client
 * certificates signed by that CA (one per CN asked for), and one signed by another CA that
 * the broker must not trust. No openssl: the tests fail here, loudly (they are not skipped).
 *
 * Keys are ECDSA P-256: made at once, where six RSA-2048 keys took over 30 s of a test file's
 * setup on a loaded 2-core machine (a prime search each).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClientCert {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
}

export interface TestCerts {
  dir: string;
  caFile: string;
  ca: Buffer;
  serverCertFile: string;
  serverKeyFile: string;
  /** by CN */
  clients: Record<string, ClientCert>;
  /** CN=guest, signed by a CA the broker does not know */
  untrusted: ClientCert;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('the TLS tests need the openssl command line (openssl 3) on the PATH');
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

/** `openssl req` options for a new ECDSA P-256 key */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

/** A CA (self-signed) as `<name>.key` / `<name>.pem`. */
function makeCa(dir: string, name: string, cn: string): void {
  openssl(['req', '-x509', ...NEW_KEY, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/O=Warren tests/CN=${cn}`], dir);
}

/** A certificate signed by `ca`, as `<name>.key` / `<name>.pem`; `ext` lines go into its extensions. */
function makeSigned(dir: string, ca: string, name: string, subject: string, ext: string[]): void {
  openssl(['req', ...NEW_KEY, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  writeFileSync(join(dir, `${name}.ext`), ext.join('\n') + '\n');
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

function client(dir: string, name: string): ClientCert {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile };
}

export function generateCerts(clientNames: string[]): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
  try {
    makeCa(dir, 'ca', 'Warren test CA');
    makeSigned(dir, 'ca', 'server', '/O=Warren tests/CN=localhost', [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature', // ECDHE with an ECDSA key signs; it enciphers no key
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ]);
    const clients: Record<string, ClientCert> = {};
    clientNames.forEach((cn, i) => {
      makeSigned(dir, 'ca', `client${i}`, `/C=FR/O=Warren tests/CN=${cn}`, ['basicConstraints=CA:FALSE', 'extendedKeyUsage=clientAuth']);
      clients[cn] = client(dir, `client${i}`);
    });
    makeCa(dir, 'rogue-ca', 'Someone else');
    makeSigned(dir, 'rogue-ca', 'untrusted', '/O=Elsewhere/CN=guest', ['basicConstraints=CA:FALSE', 'extendedKeyUsage=clientAuth']);
    return {
      dir,
      caFile: join(dir, 'ca.pem'),
      ca: readFileSync(join(dir, 'ca.pem')),
      serverCertFile: join(dir, 'server.pem'),
      serverKeyFile: join(dir, 'server.key'),
      clients,
      untrusted: client(dir, 'untrusted'),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A new server certificate (another key, same names) written over `certs`' server files. */
export function renewServerCert(certs: TestCerts): void {
  makeSigned(certs.dir, 'ca', 'server', '/O=Warren tests/CN=localhost', [
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature', // ECDHE with an ECDSA key signs; it enciphers no key
    'extendedKeyUsage=serverAuth',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
  ]);
}
