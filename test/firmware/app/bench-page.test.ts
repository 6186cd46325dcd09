/**
 * The virtual handset page in headless Chromium (Debian chromium, driven by
 * playwright-core): two bench phones on the real lab exchange, one calls the
 * other by clicking the page, the other rings and answers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchServer, startBenchServer } from "../../../firmware/app/bench-server.ts";
import { type BuiltPhone, buildPhone } from "../../../firmware/app/build-phone.ts";
import { validateConfig } from "../../../firmware/app/config.ts";
import { MockHandset } from "../../../hal/mock.ts";
import { type LabExchange, startLabExchange } from "../../../server/kamailio/lab-exchange.ts";

let ex: LabExchange;
let server: BenchServer;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), "deskphone-page-"));
const built: BuiltPhone[] = [];

beforeAll(async () => {
  ex = await startLabExchange();
  const phones = [];
  for (const user of ["2001", "2002"]) {
    const r = validateConfig({
      account: { user },
      exchange: { url: ex.wsUrl },
      audio: { ringer: { device: "null", rate: 8000 }, earpiece: "null", microphone: "null" },
      journal: { path: join(dir, `${user}.jsonl`) },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const handset = new MockHandset();
    const b = buildPhone(r.config, handset, { log: () => {} });
    b.phone.start();
    built.push(b);
    phones.push({ user, phone: b.phone, agent: b.agent, handset, journal: b.journal });
  }
  server = await startBenchServer(phones, "127.0.0.1", 0);
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const b of built) await b.stop();
  await ex?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the bench page", () => {
  it("shows both handsets live; clicking dials, the callee rings with a blinking line LED and answers", async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    const card = (u: string) => page.locator(`.phone[data-user="${u}"]`);
    await expect
      .poll(() => card("2001").locator(".reg").textContent(), { timeout: 10_000 })
      .toBe("registered");
    await expect
      .poll(() => card("2002").locator(".reg").textContent(), { timeout: 10_000 })
      .toBe("registered");
    await card("2001").locator(".handset").click();
    await expect.poll(() => card("2001").locator(".screen").textContent()).toContain("dial:");
    for (const k of "2002#") await card("2001").locator(`[data-key="${k}"]`).click();
    await expect
      .poll(() => card("2002").locator(".screen").textContent(), { timeout: 10_000 })
      .toContain("RINGING from 2001");
    // The line LED blinks: lit and dark within one second.
    const lit = new Set<boolean>();
    for (let i = 0; i < 12; i++) {
      lit.add(
        await card("2002")
          .locator("[data-led=line] i")
          .evaluate((e) => e.classList.contains("lit")),
      );
      await page.waitForTimeout(100);
    }
    expect([...lit].sort()).toEqual([false, true]);
    await page.screenshot({ path: join(dir, "ringing.png") });
    await card("2002").locator(".handset").click();
    await expect
      .poll(() => card("2002").locator(".screen").textContent(), { timeout: 10_000 })
      .toContain("talking from 2001");
    await expect
      .poll(() => card("2001").locator(".screen").textContent())
      .toContain("talking to 2002");
    expect(await card("2001").locator(".journal").textContent()).toContain("dialled 2002");
    await card("2001").locator(".handset").click();
    await expect
      .poll(() => card("2002").locator(".screen").textContent(), { timeout: 10_000 })
      .toContain("call ended");
  }, 60_000);
});
