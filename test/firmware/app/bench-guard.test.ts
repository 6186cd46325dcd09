/**
 * The bench API refuses what a web page could send (docs/bench.md, "Who may
 * use the bench API"): real `deskphone bench` processes, real HTTP clients
 * (node:http, which may set any Host; fetch; headless Chromium running a page
 * from another origin), and after each refusal the phone is checked to be
 * untouched.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";

interface Bench {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), "deskphone-bench-guard-"));
const TOKEN = "configured-token-0123456789";

/**
 * A `deskphone bench` on `listen`; no exchange answers (the API does not need one).
 * Started once its output has the URL line and, if given, the `then` line that follows it.
 */
async function startBench(
  name: string,
  listen: string,
  bench: object = {},
  then?: RegExp,
): Promise<Bench> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      account: { user: "2001" },
      exchange: { url: "ws://127.0.0.1:9" },
      audio: { ringer: "null", earpiece: "null", microphone: "null" },
      journal: { path: join(dir, `${name}.jsonl`) },
      bench,
    }),
    { mode: 0o600 },
  );
  const child: ChildProcess = spawn(
    process.execPath,
    ["bin/deskphone.mjs", "bench", "--config", file, "--listen", listen],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const t0 = Date.now();
  const url = () => /deskphone bench: http:\/\/[^\s/]+:(\d+)\//.exec(out);
  const started = () => (!then || then.test(out) ? url() : null);
  let m = started();
  while (!m) {
    if (child.exitCode !== null || Date.now() - t0 > 15_000)
      throw new Error(`bench did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
    m = started();
  }
  return {
    port: Number(m[1]),
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with node:http, which sends the Host header it is given. */
function raw(
  port: number,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: o.method ?? "GET",
        path: o.path,
        headers: { host: `127.0.0.1:${port}`, ...o.headers },
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          if (body.length < 2000) body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        // An event stream does not end: its head and first event are enough.
        if (String(res.headers["content-type"]).startsWith("text/event-stream"))
          res.once("data", () => {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
            req.destroy();
          });
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

const json = { "content-type": "application/json" };
const state = async (port: number, headers: Record<string, string> = {}) =>
  JSON.parse((await raw(port, { path: "/api/state", headers })).body) as {
    hook: string;
    phase: string;
    dialled: string;
  };

let loop: Bench;
let wide: Bench;
let tokened: Bench;
beforeAll(async () => {
  [loop, wide, tokened] = await Promise.all([
    startBench("loopback", "127.0.0.1:0"),
    startBench("wide", "0.0.0.0:0", {}, /deskphone bench: token \S+ .*\n/),
    startBench("tokened", "127.0.0.1:0", { token: TOKEN }, /\?token=<bench\.token>.*\n/),
  ]);
}, 30_000);
afterAll(async () => {
  await Promise.all([loop?.stop(), wide?.stop(), tokened?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("the bench API on loopback", () => {
  it("takes JSON bodies only: text/plain and form bodies get 415 and press nothing", async () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const r = await raw(loop.port, {
        method: "POST",
        path: "/api/keys",
        headers: { "content-type": type },
        body: '{"keys":"112#"}',
      });
      expect(r.status, type).toBe(415);
      expect(JSON.parse(r.body).error).toMatch(/application\/json/);
    }
    const none = await raw(loop.port, { method: "POST", path: "/api/hook", body: "{}" });
    expect(none.status).toBe(415);
    expect(await state(loop.port)).toMatchObject({ hook: "on", phase: "idle", dialled: "" });
  });

  it("refuses a foreign Origin (and the null origin) with 403", async () => {
    for (const origin of [
      "http://evil.example",
      "http://127.0.0.1:1",
      `https://127.0.0.1:${loop.port}`,
      "null",
    ]) {
      const r = await raw(loop.port, {
        method: "POST",
        path: "/api/hook",
        headers: { ...json, origin },
        body: '{"offHook":true}',
      });
      expect(r.status, origin).toBe(403);
    }
    // Reading is refused too (fetch sets Origin on its own).
    const read = await fetch(`http://127.0.0.1:${loop.port}/api/state`, {
      headers: { origin: "http://evil.example" },
    });
    expect(read.status).toBe(403);
    expect(await state(loop.port)).toMatchObject({ hook: "on", phase: "idle" });
  });

  it("refuses a Host that is not this server (DNS rebinding) with 421", async () => {
    const port = loop.port;
    for (const host of [`evil.example:${port}`, "127.0.0.1:1", `127.0.0.1.nip.io:${port}`]) {
      for (const [method, path, body] of [
        ["GET", "/", undefined],
        ["GET", "/api/state", undefined],
        ["POST", "/api/hook", '{"offHook":true}'],
      ] as const) {
        const r = await raw(port, {
          method,
          path,
          headers: { ...json, host },
          ...(body && { body }),
        });
        expect(r.status, `${method} ${path} Host: ${host}`).toBe(421);
      }
    }
    expect(await state(port)).toMatchObject({ hook: "on", phase: "idle" });
  });

  it("answers its own names: 127.0.0.1, localhost and [::1] with its port, and its own Origin", async () => {
    const port = loop.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const r = await raw(port, { path: "/api/state", headers: { host } });
      expect(r.status, host).toBe(200);
    }
    const page = await raw(loop.port, { path: "/" });
    expect(page.status).toBe(200);
    expect(page.body).toContain("deskphone bench");
    const lift = await raw(port, {
      method: "POST",
      path: "/api/hook",
      headers: { ...json, origin: `http://localhost:${port}`, host: `localhost:${port}` },
      body: '{"offHook":true}',
    });
    expect(lift.status).toBe(200);
    expect(JSON.parse(lift.body).hook).toBe("off");
    const down = await raw(port, {
      method: "POST",
      path: "/api/hook",
      headers: json,
      body: '{"offHook":false}',
    });
    expect(JSON.parse(down.body).hook).toBe("on");
  });

  it("answers 413 to a body past 4 KiB — 5 KB, 10 MB, and streamed without a length — and goes on serving", async () => {
    const url = `http://127.0.0.1:${loop.port}/api/keys`;
    for (const size of [5_000, 10_000_000]) {
      const r = await fetch(url, {
        method: "POST",
        headers: json,
        body: Buffer.alloc(size, 0x20),
      });
      expect(r.status, `${size} bytes`).toBe(413);
      expect(((await r.json()) as { error: string }).error).toMatch(/4 KiB/);
    }
    // Chunked (no Content-Length): the limit is found while reading.
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 2 * 1024 * 1024) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    const chunked = await fetch(url, {
      method: "POST",
      headers: json,
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const ok = await fetch(url, { method: "POST", headers: json, body: '{"keys":"dnd"}' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { dnd: boolean }).dnd).toBe(true);
    await fetch(url, { method: "POST", headers: json, body: '{"keys":"dnd"}' });
  }, 30_000);
});

describe("the bench API beyond loopback", () => {
  const token = () => /deskphone bench: token (\S+)/.exec(wide.output())?.[1] ?? "";

  it("warns, generates and prints a token, and refuses every request without it (401)", async () => {
    expect(wide.output()).toMatch(/<4>bench: listening on 0\.0\.0\.0:\d+, beyond loopback/);
    expect(token()).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    for (const [method, path, body] of [
      ["GET", "/", undefined],
      ["GET", "/api/state", undefined],
      ["GET", "/api/journal", undefined],
      ["GET", "/api/events", undefined],
      ["POST", "/api/hook", '{"offHook":true}'],
    ] as const) {
      for (const auth of [undefined, "Bearer wrong-token", `Basic ${token()}`]) {
        const r = await raw(wide.port, {
          method,
          path,
          headers: { ...json, ...(auth && { authorization: auth }) },
          ...(body && { body }),
        });
        expect(r.status, `${method} ${path} ${auth}`).toBe(401);
        if (path.startsWith("/api")) expect(r.headers["www-authenticate"]).toMatch(/^Bearer/);
      }
    }
    const wrongQuery = await raw(wide.port, { path: "/?token=wrong" });
    expect(wrongQuery.status).toBe(401);
    const s = await state(wide.port, { authorization: `Bearer ${token()}` });
    expect(s).toMatchObject({ hook: "on", phase: "idle" });
  });

  it("serves the bearer of the token, and the page through its cookie", async () => {
    const lift = await raw(wide.port, {
      method: "POST",
      path: "/api/hook",
      headers: { ...json, authorization: `Bearer ${token()}` },
      body: '{"offHook":true}',
    });
    expect(lift.status).toBe(200);
    const first = await raw(wide.port, { path: `/?token=${token()}` });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/");
    const setCookie = String(first.headers["set-cookie"]);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(";")[0] as string;
    expect((await raw(wide.port, { path: "/", headers: { cookie } })).status).toBe(200);
    const events = await raw(wide.port, { path: "/api/events", headers: { cookie } });
    expect(events.status).toBe(200);
    const down = await raw(wide.port, {
      method: "POST",
      path: "/api/hook",
      headers: { ...json, cookie },
      body: '{"offHook":false}',
    });
    expect(JSON.parse(down.body).hook).toBe("on");
    // The token does not open the door to a foreign Host or Origin.
    const rebound = await raw(wide.port, {
      path: "/api/state",
      headers: { authorization: `Bearer ${token()}`, host: `evil.example:${wide.port}` },
    });
    expect(rebound.status).toBe(421);
  });

  it("a configured bench.token is required even on loopback, and is not printed", async () => {
    expect(tokened.output()).not.toContain(TOKEN);
    expect(tokened.output()).not.toMatch(/beyond loopback/);
    expect((await raw(tokened.port, { path: "/api/state" })).status).toBe(401);
    const r = await raw(tokened.port, {
      path: "/api/state",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(r.status).toBe(200);
  });
});

describe("in a browser", () => {
  let browser: Browser;
  let evil: Server;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (evil ? evil.close(r) : r(undefined)));
  });

  it("a page from another origin cannot lift the handset or dial 112", async () => {
    const bench = `http://127.0.0.1:${loop.port}/api/`;
    // What a page can send without a CORS preflight (text/plain, no-cors), and
    // what it could send with one (JSON): neither may reach the phone.
    const script = `
      const post = (what, body, o) => fetch(${JSON.stringify(bench)} + what,
        { method: "POST", body: JSON.stringify(body), ...o }).catch(() => {});
      (async () => {
        await post("hook", { offHook: true }, { mode: "no-cors", headers: { "content-type": "text/plain" } });
        await post("keys", { keys: "112#" }, { mode: "no-cors", headers: { "content-type": "text/plain" } });
        await post("hook", { offHook: true }, { headers: { "content-type": "application/json" } });
        await post("keys", { keys: "112#" }, { headers: { "content-type": "application/json" } });
        window.done = true;
      })();`;
    evil = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>evil</title><script>${script}</script>`);
    });
    const evilPort = await new Promise<number>((r) =>
      evil.listen(0, "127.0.0.1", () => r((evil.address() as { port: number }).port)),
    );
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${evilPort}/`);
    await page.waitForFunction(() => (globalThis as { done?: boolean }).done === true);
    await page.close();
    expect(await state(loop.port)).toMatchObject({ hook: "on", phase: "idle", dialled: "" });
  }, 30_000);

  it("the bench page works beyond loopback through the printed URL (token, then cookie)", async () => {
    const t = /deskphone bench: token (\S+)/.exec(wide.output())?.[1];
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${wide.port}/?token=${t}`);
    expect(new URL(page.url()).search).toBe(""); // the token left the address bar
    const card = page.locator('.phone[data-user="2001"]');
    await card.waitFor({ timeout: 10_000 }); // state came over the event stream
    await card.locator(".handset").click();
    await expect.poll(() => card.locator(".screen").textContent()).toContain("dial:");
    await card.locator(".handset").click();
    await expect.poll(() => card.locator(".screen").textContent()).not.toContain("dial:");
    await page.close();
  }, 30_000);
});
