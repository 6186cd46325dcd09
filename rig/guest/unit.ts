/** deskphone.service as systemd and its journal see it. */
import { execFileSync } from "node:child_process";

export interface UnitState {
  ActiveState: string;
  SubState: string;
  StatusText: string;
  NRestarts: number;
  MainPID: number;
  /** When it last became active (READY=1 for Type=notify), µs since boot. */
  ActiveEnterTimestampMonotonic: number;
}

export function unitState(unit = "deskphone.service"): UnitState {
  const text = execFileSync(
    "systemctl",
    [
      "show",
      unit,
      "-p",
      "ActiveState,SubState,StatusText,NRestarts,MainPID,ActiveEnterTimestampMonotonic",
    ],
    { encoding: "utf8" },
  );
  const v = Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return {
    ActiveState: v.ActiveState ?? "",
    SubState: v.SubState ?? "",
    StatusText: v.StatusText ?? "",
    NRestarts: Number(v.NRestarts ?? 0),
    MainPID: Number(v.MainPID ?? 0),
    ActiveEnterTimestampMonotonic: Number(v.ActiveEnterTimestampMonotonic ?? 0),
  };
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The PIDs that wrote deskphone.service's journal lines this boot. */
export function journalPids(): Set<number> {
  const out = sh("journalctl", [
    "-b",
    "-u",
    "deskphone.service",
    "-o",
    "json",
    "--output-fields=_PID",
  ]);
  const pids = new Set<number>();
  for (const line of out.split("\n").filter(Boolean)) {
    const pid = Number((JSON.parse(line) as { _PID?: string })._PID);
    if (pid) pids.add(pid);
  }
  return pids;
}
