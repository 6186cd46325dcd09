/**
 * Talks to systemd (sd_notify protocol) through the `systemd-notify`
 * command: READY=1 once registered (or after a bounded wait), WATCHDOG=1
 * from the event loop, STATUS= lines. Node has no unix datagram sockets;
 * the unit sets NotifyAccess=all and the message names our PID.
 */
import { spawn } from "node:child_process";

export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;
  readonly enabled: boolean;

  /** `env` carries NOTIFY_SOCKET and WATCHDOG_USEC (the process's own, under systemd). */
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.enabled = Boolean(env.NOTIFY_SOCKET);
  }

  private send(...args: string[]): void {
    if (!this.enabled) return;
    const child = spawn("systemd-notify", [`--pid=${process.pid}`, ...args], {
      stdio: "ignore",
      env: this.env,
    });
    child.on("error", () => {});
  }

  ready(status: string): void {
    this.send("--ready", `--status=${status}`);
  }

  status(status: string): void {
    this.send(`--status=${status}`);
  }

  /** Sends WATCHDOG=1 at half the interval systemd asks for (WATCHDOG_USEC), from the event loop. */
  startWatchdog(): void {
    const usec = Number(this.env.WATCHDOG_USEC ?? 0);
    if (!this.enabled || !usec) return;
    this.timer = setInterval(() => this.send("WATCHDOG=1"), Math.max(1000, usec / 2000));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.send("STOPPING=1");
  }
}
