import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * CPU use of the whole machine (/proc/stat) and, optionally, of the broker's
 * process (/proc/<pid>/stat), sampled at the start and end of the measured
 * interval. On a 2-core machine this is how we tell whether the broker or
 * the load generator was the bottleneck. Linux only; elsewhere the fields
 * are null.
 */

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on every Linux architecture Node supports

/** @returns {{ busy: number, total: number } | null} jiffies since boot */
function readHostTicks() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal; guest is inside user
    const idle = values[3] + (values[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** @param {number} pid @returns {number | null} utime + stime in ticks */
function readProcessTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which may contain spaces, in parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime (14th), stime (15th)
  } catch {
    return null;
  }
}

export class CpuSampler {
  /** @param {number | null} brokerPid */
  constructor(brokerPid) {
    this.brokerPid = brokerPid;
    this.cores = cpus().length;
    this.startHost = readHostTicks();
    this.startBroker = brokerPid ? readProcessTicks(brokerPid) : null;
    this.startedAt = process.hrtime.bigint();
    this.startSelf = process.cpuUsage();
  }

  /**
   * `self_cores`: this process (the load generator when it samples itself): at 1.0 its one
   * JavaScript thread is the ceiling, whatever the broker does.
   * @returns {{ host_busy_cores: number | null, broker_cores: number | null, self_cores: number | null, cores: number }}
   */
  finish() {
    const seconds = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    const self = process.cpuUsage(this.startSelf);
    const endHost = readHostTicks();
    const endBroker = this.brokerPid ? readProcessTicks(this.brokerPid) : null;
    let hostBusy = null;
    if (this.startHost && endHost && endHost.total > this.startHost.total) {
      hostBusy = ((endHost.busy - this.startHost.busy) / (endHost.total - this.startHost.total)) * this.cores;
    }
    let broker = null;
    if (this.startBroker !== null && endBroker !== null && seconds > 0) {
      broker = (endBroker - this.startBroker) / CLOCK_TICKS_PER_SECOND / seconds;
    }
    const selfCores = seconds > 0 ? round2((self.user + self.system) / 1e6 / seconds) : null;
    return { host_busy_cores: round2(hostBusy), broker_cores: round2(broker), self_cores: selfCores, cores: this.cores };
  }
}

/** @param {number | null} v */
export function round2(v) {
  return v === null ? null : Math.round(v * 100) / 100;
}

/**
 * Cores busy on the whole machine over the next `ms` milliseconds, or null
 * where /proc/stat is missing. The runner uses it to wait for a quiet
 * machine: on a shared 2-core box, another process's test run halves
 * whatever we measure.
 * @param {number} ms
 * @returns {Promise<number | null>}
 */
export async function sampleHostBusyCores(ms) {
  const start = readHostTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const end = readHostTicks();
  if (!start || !end || end.total <= start.total) return null;
  return round2(((end.busy - start.busy) / (end.total - start.total)) * cpus().length);
}
