/**
 * "One open counted per token per window": each open-pixel GET was a database write plus engine
 * signals, so reloading a pixel could flood both. This remembers, per process, which token (and
 * verdict: machine or human, so a scanner's prefetch never hides the person's own open) was counted
 * in the current window; later GETs in the window get the pixel and change nothing. The event id is
 * derived from token, verdict and window too, so the event store also dedupes across processes.
 */
export const OPEN_WINDOW_MS = 60 * 60 * 1000;
const MAX_ENTRIES = 100_000;

export class OpenWindow {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs = OPEN_WINDOW_MS) {}

  /** The window an instant falls in (also part of the event id). */
  windowOf(at: Date): number {
    return Math.floor(at.getTime() / this.windowMs);
  }

  /** True the first time `key` is seen in the window of `at`; false for repeats in that window. */
  first(key: string, at: Date): boolean {
    const w = this.windowOf(at);
    if (this.seen.get(key) === w) return false;
    if (this.seen.size >= MAX_ENTRIES) {
      // Drop entries of past windows first; if every entry is current, drop the oldest.
      for (const [k, v] of this.seen) if (v < w) this.seen.delete(k);
      if (this.seen.size >= MAX_ENTRIES) this.seen.delete(this.seen.keys().next().value as string);
    }
    this.seen.delete(key);
    this.seen.set(key, w);
    return true;
  }
}
