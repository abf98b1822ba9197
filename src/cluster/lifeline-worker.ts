/**
 * The lifeline thread of a cluster node: keeps the node's etcd lease alive and is the
 * watchdog, off the main event loop (a busy broker must not lose its lease for want of a
 * turn of its loop, LavinMQ #847/#1573) but only while that loop is alive (a stuck leader
 * must not keep its lease, LavinMQ #2151).
 *
 * It shares one Float64Array with the main thread (slots below): the main loop writes its
 * heartbeat every 200 ms and the start of its oldest fdatasync in flight; this thread writes
 * the time of the last keep-alive etcd accepted (the time it was *sent*: etcd counts the TTL
 * from when it received it, which is later, so the main thread's fence errs on the safe side)
 * and a flag when etcd says the lease is gone.
 *
 * - keep-alive: every TTL/3 while the heartbeat is younger than TTL/2, through etcd's JSON
 *   gateway (POST /v3/lease/keepalive), trying the endpoints in turn; after a failure it
 *   retries every 500 ms.
 * - watchdog: when the heartbeat or an fdatasync is older than the limit, SIGKILL the process
 *   (a thread cannot end its process otherwise). When this thread itself was not scheduled
 *   for that long (the whole process was stopped: SIGSTOP, a VM pause), the main loop gets
 *   a second to write a heartbeat before anything counts as stuck; its fence (lifeline.ts)
 *   then decides whether the lease may have lapsed.
 *
 * Runs as `new Worker(source, { eval: true })` (the same code from sources and from the
 * build), so it imports nothing: it uses require and the global fetch.
 */

export const SLOT_HEARTBEAT = 0;
export const SLOT_LAST_KEEPALIVE = 1;
export const SLOT_SYNC_SINCE = 2;
export const SLOT_LEASE_LOST = 3;
export const SLOT_COUNT = 4;

export interface LifelineWorkerData {
  shared: SharedArrayBuffer;
  endpoints: string[];
  leaseId: string;
  ttlMs: number;
  watchdogMs: number;
}

export function lifelineWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { workerData, parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  const data = workerData as LifelineWorkerData;
  const s = new Float64Array(data.shared);
  // The slot numbers again: this function is run from its source text and sees no module scope.
  const SLOT_HEARTBEAT = 0;
  const SLOT_LAST_KEEPALIVE = 1;
  const SLOT_SYNC_SINCE = 2;
  const SLOT_LEASE_LOST = 3;
  const TICK_MS = 100;
  let endpoint = 0;
  let nextKeepAlive = Date.now() + data.ttlMs / 3;
  let inFlight = false;
  let lastTick = Date.now();
  let graceUntil = 0;
  let stopped = false;

  const die = (why: string) => {
    // Straight to fd 2: a worker's process.stderr goes through the main thread, which is stuck.
    fs.writeSync(2, JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: `cluster watchdog: ${why}; killing this process` }) + '\n');
    process.kill(process.pid, 'SIGKILL');
  };

  const keepAlive = async () => {
    inFlight = true;
    const sentAt = Date.now();
    const url = data.endpoints[endpoint % data.endpoints.length]!;
    try {
      const res = await fetch(`${url}/v3/lease/keepalive`, {
        method: 'POST',
        body: JSON.stringify({ ID: data.leaseId }),
        signal: AbortSignal.timeout(Math.max(1000, Math.round(data.ttlMs / 3))), // an integer, or it throws
      });
      const body = (await res.json()) as { result?: { TTL?: string } };
      if (!res.ok || !body.result) throw new Error(`HTTP ${res.status}`);
      if (Number(body.result.TTL ?? 0) <= 0) {
        s[SLOT_LEASE_LOST] = 1;
        parentPort!.postMessage({ type: 'lease-lost' });
        stopped = true;
        return;
      }
      if (sentAt > s[SLOT_LAST_KEEPALIVE]!) s[SLOT_LAST_KEEPALIVE] = sentAt;
      nextKeepAlive = sentAt + data.ttlMs / 3;
    } catch {
      endpoint++;
      nextKeepAlive = Date.now() + 500;
    } finally {
      inFlight = false;
    }
  };

  const timer = setInterval(() => {
    if (stopped) return;
    const now = Date.now();
    if (now - lastTick > data.watchdogMs / 2) graceUntil = now + 1000;
    lastTick = now;
    const heartbeatAge = now - s[SLOT_HEARTBEAT]!;
    const syncSince = s[SLOT_SYNC_SINCE]!;
    if (now > graceUntil) {
      if (heartbeatAge > data.watchdogMs) return die(`event loop stuck for ${heartbeatAge} ms`);
      if (syncSince > 0 && now - syncSince > data.watchdogMs) return die(`fdatasync stuck for ${now - syncSince} ms`);
    }
    if (!inFlight && now >= nextKeepAlive && heartbeatAge < data.ttlMs / 2) void keepAlive();
  }, TICK_MS);

  parentPort!.on('message', (m: { type: string }) => {
    if (m.type === 'stop') {
      stopped = true;
      clearInterval(timer);
      parentPort!.close();
    }
  });
}
