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
  // stdout is a socket the test reads: a write it has no room for is queued in this process,
  // and what is queued here dies with it. The next record is appended once this line has
  // left (its write's callback), not at once: a test slow to read, as under load, saw this
  // process run hundreds of records past the last line it received, so that the rotating
  // files held no acknowledged record at all.
  process.stdout.write(`${seq}\n`, () => setImmediate(next));
  seq++;
};
next();
