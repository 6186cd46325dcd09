// Loads every native part of an unpacked deskphone .deb in the Node that runs
// this script (the arm64 Node under qemu-aarch64: image/check-native.sh): each
// .node of native/*/build/Release, and the i2c-bus and epoll packages the way
// the firmware requires them. Prints a line per part; exits 1 if any fails.
//   node check-native.mjs /path/to/usr/lib/deskphone
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const lib = process.argv[2];
const require = createRequire(join(lib, "package.json"));
let failed = 0;
let loaded = 0;
function attempt(name, load) {
  try {
    const mod = load();
    loaded++;
    console.log(`load ${name}: ok (${Object.keys(mod).slice(0, 6).join(", ")})`);
  } catch (e) {
    failed++;
    console.log(`load ${name}: FAILED ${e.message.split("\n")[0]}`);
  }
}
for (const part of readdirSync(join(lib, "native"))) {
  const dir = join(lib, "native", part, "build", "Release");
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".node"));
  } catch {}
  if (files.length === 0) {
    failed++;
    console.log(`load native/${part}: FAILED not built (no .node in ${dir})`);
  }
  for (const f of files) attempt(`native/${part}/${f}`, () => require(join(dir, f)));
}
for (const pkg of ["i2c-bus", "epoll"]) attempt(pkg, () => require(pkg));
console.log(`${process.arch} node ${process.version}: ${loaded} loaded, ${failed} failed`);
process.exit(failed === 0 && loaded > 0 ? 0 : 1);
