/** Entries a queue index picked for a read (parallel arrays, no object per entry). */
export class ReadPlan {
  n = 0;
  seq: number[] = [];
  segment: number[] = [];
  offset: number[] = [];
  length: number[] = [];
  flags: number[] = [];
  bodyBytes = 0;

  reset(): void {
    this.n = 0;
    this.bodyBytes = 0;
  }

  push(seq: number, segment: number, offset: number, length: number, flags: number): void {
    const i = this.n++;
    this.seq[i] = seq;
    this.segment[i] = segment;
    this.offset[i] = offset;
    this.length[i] = length;
    this.flags[i] = flags;
  }
}
