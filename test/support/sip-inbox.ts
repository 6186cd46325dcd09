/**
 * SIP messages as a hand-written peer receives them (a raw caller's socket, a
 * stand-in exchange's WebSocket), and the waits on them: the next message
 * that passes a test, or undefined once the time is up — a test then says
 * what did not come, rather than hanging.
 */
export class SipInbox {
  private readonly waiting = new Set<(m: string) => boolean>();

  /** A message arrived: every wait it satisfies ends with it. */
  take(m: string): void {
    for (const w of [...this.waiting]) if (w(m)) this.waiting.delete(w);
  }

  /** The next message that passes `test` within `timeoutMs`, or undefined. */
  next(test: (m: string) => boolean, timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(w);
        resolve(undefined);
      }, timeoutMs);
      const w = (m: string) => {
        if (!test(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      this.waiting.add(w);
    });
  }
}
