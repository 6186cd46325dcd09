/**
 * Making journal records durable off the event loop (group commit).
 *
 * `Journal.append` writes each record ahead, in order, into the page cache (a
 * process crash loses nothing) and returns; this part fsyncs what was written
 * on libuv's threadpool, never on the event loop, so a 180, BYE, 200 OK or
 * ring start never waits for the disk.
 *
 * When: an fsync is issued at the end of the event-loop turn that wrote the
 * first record not yet on the storage (all the records of one controller step
 * go in one fsync); while one runs, what is written meanwhile waits for it and
 * goes in the next, issued as soon as it returns. One fsync at a time (one
 * threadpool thread, the others stay free for DNS and the rest). So a record
 * is on the storage at most two fsync durations after `append` returned.
 *
 * After a rotation the old file is fsync'd and closed, then the directory
 * (the rename and the new name), then the new file — in that order, before
 * any record in the new file counts as durable.
 */
import { closeSync, fsync as fsFsync, openSync } from "node:fs";

/** The fsync seam: the default runs fsync(2) on libuv's threadpool. */
export type Fsync = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;

export const threadpoolFsync: Fsync = (fd, done) => fsFsync(fd, done);

interface Step {
  fd: number;
  /** Close the descriptor once its fsync returned. */
  close: boolean;
}

interface Waiter {
  upTo: number;
  resolve(): void;
  reject(e: Error): void;
}

export class JournalSync {
  /** Records written ahead, and of those, how many are known to be on the storage. */
  private written = 0;
  private durable = 0;
  private scheduled = false;
  private running = false;
  private closing = false;
  private closed = false;
  /** Descriptors to fsync (and close) before the current file: rotated-out file, directory. */
  private retired: Step[] = [];
  private waiters: Waiter[] = [];
  private closedWaiters: Array<() => void> = [];

  constructor(
    private fd: number,
    private readonly fsync: Fsync,
    private readonly onError: (e: NodeJS.ErrnoException) => void,
  ) {}

  /** One more record was written ahead on the current file. */
  wrote(): void {
    this.written++;
    this.schedule();
  }

  /** The file was renamed away; `fd` is the new file; `dir` holds both names. */
  rotated(newFd: number, dir: string): void {
    this.retired.push({ fd: this.fd, close: true });
    this.retired.push({ fd: openSync(dir, "r"), close: true });
    this.fd = newFd;
    this.schedule();
  }

  /** Resolves when everything written so far is on the storage. */
  synced(): Promise<void> {
    if (this.durable >= this.written && this.retired.length === 0 && !this.running)
      return Promise.resolve();
    if (this.closed) return Promise.reject(new Error("journal closed with records not synced"));
    return new Promise((resolve, reject) => {
      this.waiters.push({ upTo: this.written, resolve, reject });
      this.schedule();
    });
  }

  /** Syncs what is left and closes the file; resolves once it is closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing = true;
    const done = new Promise<void>((r) => this.closedWaiters.push(r));
    this.schedule();
    return done;
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.issue();
    });
  }

  private issue(): void {
    if (this.running || this.closed) return;
    if (this.durable >= this.written && this.retired.length === 0 && !this.closing) {
      this.settle(this.written, undefined);
      return;
    }
    this.running = true;
    const upTo = this.written;
    const closing = this.closing;
    const steps = [...this.retired.splice(0), { fd: this.fd, close: closing }];
    let error: NodeJS.ErrnoException | undefined;
    const next = (): void => {
      const s = steps.shift();
      if (!s) {
        this.running = false;
        if (closing) this.closed = true;
        this.settle(upTo, error);
        // Written while this one ran: the next fsync goes now.
        if (!this.closed && (this.written > upTo || this.retired.length > 0 || this.closing))
          this.issue();
        return;
      }
      this.fsync(s.fd, (e) => {
        if (e && !error) error = e;
        if (s.close) {
          try {
            closeSync(s.fd);
          } catch {}
        }
        next();
      });
    };
    next();
  }

  private settle(upTo: number, error: NodeJS.ErrnoException | undefined): void {
    if (error) this.onError(error);
    else this.durable = Math.max(this.durable, upTo);
    const due = this.waiters.filter((w) => w.upTo <= upTo);
    this.waiters = this.waiters.filter((w) => w.upTo > upTo);
    for (const w of due) error ? w.reject(error) : w.resolve();
    if (this.closed) {
      for (const r of this.closedWaiters.splice(0)) r();
      for (const w of this.waiters.splice(0))
        w.reject(new Error("journal closed before the record was synced"));
    }
  }
}
