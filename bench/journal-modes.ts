/**
 * The journal settings the benchmarks compare, each a real Journal in a temp
 * directory (BENCH_JOURNAL_DIR: put it on the SD card to measure one):
 *
 *   off        no journal
 *   on         the firmware's journal: written ahead, fsync(2) on the threadpool
 *   fsyncN     the same, each fsync issued N ms late (a slow SD card)
 *   inline     as before issue 11: fsync(2) on the event loop inside append
 *   inlineN    the same, with an fsync that takes N ms (the loop is blocked N ms)
 *
 *   BENCH_JOURNAL=off,on,fsync50,fsync200,inline200   (the default)
 */
import { closeSync, fsync, fsyncSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Journal } from "../firmware/app/journal.ts";
import type { JournalSink } from "../firmware/app/phone.ts";

export interface JournalMode {
  name: string;
  sink: JournalSink;
}

const blockFor = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export function journalModes(
  spec = process.env.BENCH_JOURNAL ?? "off,on,fsync50,fsync200,inline200",
) {
  const dir = mkdtempSync(
    join(process.env.BENCH_JOURNAL_DIR ?? tmpdir(), "deskphone-bench-journal-"),
  );
  const journals: Journal[] = [];
  const fds: number[] = [];
  const modes: JournalMode[] = spec.split(",").map((name) => {
    const m = /^(off|on|fsync|inline)(\d*)$/.exec(name.trim());
    if (!m) throw new Error(`BENCH_JOURNAL: unknown mode "${name}"`);
    const [, kind, n] = m as unknown as [string, string, string];
    const ms = Number(n || 0);
    if (kind === "off") return { name: "journal off", sink: { append: () => {} } };
    const path = join(dir, `${name}.jsonl`);
    const j = new Journal(path, {
      ...(kind === "fsync" && {
        fsync: (fd: number, done: (e: NodeJS.ErrnoException | null) => void) =>
          setTimeout(() => fsync(fd, done), ms),
      }),
    });
    journals.push(j);
    if (kind === "inline") {
      const fd = openSync(path, "r");
      fds.push(fd);
      return {
        name: `fsync in append, as before${ms ? ` (${ms} ms)` : ""}`,
        sink: {
          append: (r) => {
            j.append(r);
            if (ms) blockFor(ms);
            fsyncSync(fd);
          },
        },
      };
    }
    return {
      name: kind === "on" ? "journal on" : `journal on, fsync ${ms} ms late`,
      sink: { append: (r) => void j.append(r) },
    };
  });
  return {
    modes,
    async close() {
      await Promise.all(journals.map((j) => j.close()));
      for (const fd of fds) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
