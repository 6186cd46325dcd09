/**
 * Run by journal-crash.test.ts in a real node process: appends records as fast
 * as the event loop turns and prints each one's number once `append` has
 * returned (the phone would now go on: send the 180, the BYE, start the ring).
 * fsync is slowed down (the real one, issued JOURNAL_FSYNC_MS late), so when
 * the test SIGKILLs this process most acknowledged records are not fsync'd.
 *
 *   node --import tsx journal-crash-child.ts PATH MAX_BYTES
 */
import { fsync } from "node:fs";
import { Journal } from "../../../firmware/app/journal.ts";

const [path, maxBytes] = process.argv.slice(2) as [string, string];
const delay = Number(process.env.JOURNAL_FSYNC_MS ?? 500);
const j = new Journal(path, {
  maxBytes: Number(maxBytes),
  // Says on stderr how many records each fsync covered, once it returned.
  fsync: (fd, done) => {
    const covers = seq;
    setTimeout(
      () =>
        fsync(fd, (e) => {
          process.stderr.write(`fsynced ${covers}\n`);
          done(e);
        }),
      delay,
    );
  },
});
let seq = 0;
const next = () => {
  j.append({ at: seq, event: "received", callId: `c${seq}`, emergency: false });
  // stdout is a pipe: written synchronously on Linux, so the test has it before the next append.
  process.stdout.write(`${seq}\n`);
  seq++;
  setImmediate(next);
};
next();
