/**
 * Talks to systemd (sd_notify(3) protocol): READY=1 once registered (or after
 * a bounded wait), WATCHDOG=1 from the event loop, STATUS= lines, STOPPING=1.
 * Each is one datagram on the unix socket named by $NOTIFY_SOCKET, sent by
 * the phone's own process through native/system, so the kernel names our
 * PID as the sender and the unit can say NotifyAccess=main. Node has no unix
 * datagram sockets: if native/system was not built, this says so once in the
 * log and falls back to a `systemd-notify --pid=<ours>` child per message
 * (which needs NotifyAccess=all).
 */
import { spawn } from "node:child_process";
import type { Log } from "./log.ts";
import { type NativeSystem, nativeSystem, nativeSystemMissing } from "./native-system.ts";

export interface NotifierDeps {
  /** native/system; `null` forces the systemd-notify fallback (tests). */
  native?: NativeSystem | null;
}

/** One STATUS= value: a newline would start another assignment of the message. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");

export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;
  private readonly socket: string;
  private readonly native: NativeSystem | undefined;
  private readonly failed = new Set<string>();
  readonly enabled: boolean;

  /** `env` carries NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the process's own, under systemd). */
  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly log: Log = () => {},
    deps: NotifierDeps = {},
  ) {
    this.socket = env.NOTIFY_SOCKET ?? "";
    this.enabled = this.socket !== "";
    this.native = deps.native === null ? undefined : (deps.native ?? nativeSystem());
    if (this.enabled && !this.native)
      log(
        "warn",
        `systemd: ${nativeSystemMissing() ?? "native/system is not used"}; each notification spawns systemd-notify instead (the unit needs NotifyAccess=all)`,
      );
  }

  /** Sends the assignments as one message. */
  private send(...assignments: string[]): void {
    if (!this.enabled) return;
    if (this.native) {
      try {
        this.native.notify(this.socket, assignments.join("\n"));
        this.failed.clear();
      } catch (e) {
        // Reported once until a message goes through again: a heartbeat every 10 s must not flood the log.
        const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        if (!this.failed.has(code)) {
          this.failed.add(code);
          this.log("warn", `systemd: notify on ${this.socket} failed: ${(e as Error).message}`);
        }
      }
      return;
    }
    const child = spawn("systemd-notify", [`--pid=${process.pid}`, ...assignments], {
      stdio: "ignore",
      env: this.env,
    });
    child.on("error", (e) => {
      if (this.failed.has("spawn")) return;
      this.failed.add("spawn");
      this.log("warn", `systemd: systemd-notify could not be run: ${e.message}`);
    });
  }

  ready(status: string): void {
    this.send("READY=1", `STATUS=${oneLine(status)}`);
  }

  status(status: string): void {
    this.send(`STATUS=${oneLine(status)}`);
  }

  /**
   * Sends WATCHDOG=1 at half the interval systemd asks for (WATCHDOG_USEC),
   * from the event loop, so a blocked loop misses it. WATCHDOG_PID, when set,
   * must be ours (sd_watchdog_enabled(3)).
   */
  startWatchdog(): void {
    const usec = Number(this.env.WATCHDOG_USEC ?? 0);
    const pid = this.env.WATCHDOG_PID;
    if (!this.enabled || !usec || (pid && Number(pid) !== process.pid)) return;
    this.timer = setInterval(() => this.send("WATCHDOG=1"), Math.max(1000, usec / 2000));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.send("STOPPING=1");
  }
}
