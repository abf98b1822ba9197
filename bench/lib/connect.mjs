import amqp from 'amqplib';

/**
 * Open a connection that fails fast: a broker that does not answer within
 * `timeoutMs` must fail the scenario, not hang it.
 * @param {string} url
 * @param {string} name shown in the broker's connection list
 * @param {number} [timeoutMs]
 * @returns {Promise<import('amqplib').ChannelModel>}
 */
export async function openConnection(url, name, timeoutMs = 10_000) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connecting to ${redactUrl(url)} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([
      // TCP_NODELAY: amqplib leaves Nagle on by default, which with delayed
      // ACKs adds ~40 ms stalls at low in-flight counts; PerfTest and most
      // clients disable it, and so does RabbitMQ on its side.
      amqp.connect(url, { noDelay: true, clientProperties: { connection_name: name } }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Close quietly: at the end of a run the broker may already have closed the
 * connection, and that is not a failure of the run.
 * @param {{ close(): Promise<void> } | undefined | null} closable
 */
export async function closeQuietly(closable) {
  if (!closable) return;
  try {
    await closable.close();
  } catch {
    // already closed
  }
}

/** @param {string} url @returns {string} host:port/vhost without credentials */
export function redactUrl(url) {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(unparsable url)';
  }
}
