// Loaded into `deskphone run` by bench/ab-invite-180.ts --probe (node --import): the wall-clock
// time of each socket `data` event that holds an INVITE, and of the next socket write after it
// (the 180), with the process's CPU time (µs, process.cpuUsage: not inflated by waiting for a
// core on a loaded machine), written at exit to $INVITE_180_PROBE_DIR/probe-PID.json. Measures only.
import { writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";

const now = () => performance.timeOrigin + performance.now();
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const events = [];
let armed = false;
const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (name, chunk, ...rest) {
  if (name === "data" && Buffer.isBuffer(chunk) && chunk.includes("INVITE sip:")) {
    events.push({ k: "in", at: now(), cpu: cpu() });
    armed = true;
  }
  return emit.call(this, name, chunk, ...rest);
};
for (const m of ["_writev", "_write"]) {
  const write = net.Socket.prototype[m];
  net.Socket.prototype[m] = function (...a) {
    if (armed) {
      armed = false;
      events.push({ k: "out", at: now(), cpu: cpu() });
    }
    return write.apply(this, a);
  };
}
process.on("exit", () => {
  const dir = process.env.INVITE_180_PROBE_DIR;
  if (dir) writeFileSync(join(dir, `probe-${process.pid}.json`), JSON.stringify(events));
});
