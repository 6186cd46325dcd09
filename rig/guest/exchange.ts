/**
 * rig-exchange.service: the lab exchange (the repository's Kamailio
 * configuration, as every test starts it) on the guest's loopback, the
 * emergency number 112 bound to the phone (2001), and the phone's
 * /etc/deskphone/config.yaml written from rig/guest/config.yaml with the
 * exchange's address and the i2c-stub's bus. Tells systemd it is ready, so the
 * phone (ordered after it) starts with an exchange to register with.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { EMERGENCY_NUMBER, PHONE } from "./exchange-plan.ts";
import { hardware } from "./hardware-env.ts";

const hw = hardware();
const ex = await startLabExchange();
ex.table.bind(EMERGENCY_NUMBER, PHONE);
writeFileSync(
  "/run/rig/exchange.json",
  JSON.stringify({ ws: ex.wsUrl, udp: `${ex.domain}:${ex.udpPort}`, dir: ex.dir, pid: ex.pid }),
);
const template = readFileSync(new URL("./config.yaml", import.meta.url), "utf8");
writeFileSync(
  "/etc/deskphone/config.yaml",
  template.replaceAll("@EXCHANGE_URL@", ex.wsUrl).replaceAll("@I2C_BUS@", String(hw.i2cBus)),
);
console.log(`rig-exchange: ${ex.wsUrl}, ${EMERGENCY_NUMBER} rings ${PHONE}`);
spawnSync("systemd-notify", ["--ready"]);
await new Promise<void>((resolve) => process.once("SIGTERM", () => resolve()));
await ex.stop();
