/**
 * What every client of the Jepsen-style run shares: connect through a random live node, run
 * a session until the connection ends (a failover, a killed node), connect again through
 * another node, until stopped. Each protocol says how to open a connection and how to cut it.
 */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An open connection: `closed` resolves when it ends; `cut` ends it at once. */
export interface Link {
  closed: Promise<void>;
  cut(): void;
}

export abstract class Reconnecting {
  protected stopped = false;
  /** when the current connection was opened (ms): confirms on it count for failover times */
  protected sessionStart = 0;
  #link: Link | null = null;
  #loop: Promise<void> | null = null;

  /** a URL through a random running node, or null when none runs */
  protected abstract url(): string | null;
  /** open a connection to `url` and start this client's session on it; null when it failed */
  protected abstract open(url: string): Promise<Link | null>;

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.stopped) {
      const url = this.url();
      if (!url) {
        await sleep(200);
        continue;
      }
      const link = await this.open(url).catch(() => null);
      if (link) {
        this.#link = link;
        if (this.stopped) link.cut();
        await link.closed;
      }
      this.#link = null;
      if (!this.stopped) await sleep(200);
    }
  }

  /** Stop; a connection whose broker does not answer (paused, gone) is cut. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.#link?.cut();
    await Promise.race([this.#loop, sleep(5000)]);
  }
}
