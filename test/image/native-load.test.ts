/**
 * The arm64 .deb's native parts (docs/image.md): `npm run deb` with
 * DEB_ARCH=arm64 and image/cross-env.sh cross-compiles them on this amd64
 * machine, and each one loads in the arm64 Node under qemu-aarch64 (user-mode
 * emulation), linked against the image's own glibc and libasound.
 *
 * It needs what `npm run image` leaves in its cache: the arm64 root file system
 * (mmdebstrap under qemu-user, over 30 minutes: too long to make inside
 * `npm test`) and the arm64 Node. Without them it is skipped, saying so; `npm run
 * image` runs the same check (image/check-native.sh) on every build.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const cache = process.env.DESKPHONE_IMAGE_CACHE ?? "/var/cache/deskphone-image";
const key = createHash("sha256")
  .update(
    Buffer.concat(
      ["packages.txt", "rootfs.sh", "initramfs-hook"].map((f) => readFileSync(join("image", f))),
    ),
  )
  .digest("hex")
  .slice(0, 16);
const rootfs = join(cache, `rootfs-${key}`);
const nodeVersion = readFileSync("image/node-version", "utf8").trim();
const nodeDir = join(cache, `node-${nodeVersion}`, "node");
const haveQemu =
  spawnSync("sh", ["-c", "command -v qemu-aarch64-static && command -v aarch64-linux-gnu-gcc"])
    .status === 0;
const missing = !existsSync(join(rootfs, "usr/lib/aarch64-linux-gnu"))
  ? `no arm64 root file system ${rootfs} (made by npm run image)`
  : !existsSync(join(nodeDir, "bin/node"))
    ? `no arm64 Node in ${nodeDir} (made by npm run image)`
    : !haveQemu
      ? "no qemu-aarch64-static or aarch64-linux-gnu-gcc (image/host-deps.sh installs them)"
      : "";

describe("the arm64 .deb's native parts", () => {
  it.skipIf(missing !== "")(
    `are arm64 and each loads under qemu-aarch64${missing ? ` — skipped: ${missing}` : ""}`,
    () => {
      const env = {
        ...process.env,
        DEB_ARCH: "arm64",
        DESKPHONE_CROSS: join(process.cwd(), "image/cross-env.sh"),
        DESKPHONE_CROSS_SYSROOT: rootfs,
        DESKPHONE_CROSS_NODEDIR: nodeDir,
      };
      const built = spawnSync("bash", ["scripts/build-deb.sh"], { env, encoding: "utf8" });
      expect(built.status, built.stderr).toBe(0);
      const deb = built.stdout.trim().split("\n").pop() ?? "";
      expect(deb).toMatch(/_arm64\.deb$/);
      const check = spawnSync("image/check-native.sh", [deb], {
        env: {
          ...process.env,
          DESKPHONE_IMAGE_SYSROOT: rootfs,
          DESKPHONE_IMAGE_NODE: join(nodeDir, "bin/node"),
        },
        encoding: "utf8",
      });
      const out = check.stdout + check.stderr;
      expect(check.status, out).toBe(0);
      for (const part of [
        "native/alsa-pcm/alsa_pcm.node",
        "native/call-media/call_media.node",
        "native/gpio-ioctl/gpio_ioctl.node",
        "native/system/system.node",
        "native/system/notify_receiver.node",
        "i2c-bus",
        "epoll",
      ]) {
        expect(out, part).toContain(`load ${part}: ok`);
      }
      expect(out).toMatch(/^arm64 node v\d+\.\d+\.\d+: 7 loaded, 0 failed$/m);
    },
    900_000,
  );
});
