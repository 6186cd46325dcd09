/**
 * Priority (RFC 3261 §20.26) and Resource-Priority (RFC 4412) parsing.
 * Never throws.
 */

export type PriorityValue = "non-urgent" | "normal" | "urgent" | "emergency";

/** RFC 3261 §20.26; an absent or unknown value counts as "normal". */
export function parsePriority(value: string | readonly string[] | undefined): PriorityValue {
  const first = (typeof value === "string" ? value : value?.[0]) ?? "";
  const v = first.slice(0, 64).trim().toLowerCase();
  return v === "non-urgent" || v === "urgent" || v === "emergency" ? v : "normal";
}

/**
 * A precedence level on one scale for every namespace: 0 is the lowest
 * (routine) and 4 the highest of most namespaces; drsn adds 5.
 */
export interface ResourcePriority {
  namespace: string;
  value: string;
  level: number;
}

/** RFC 4412 §12.6 (dsn, drsn), RFC 4412 §12.6.3 (q735), RFC 4412/RFC 7135 (ets, wps, esnet). */
const NAMED: Record<string, readonly string[]> = {
  dsn: ["routine", "priority", "immediate", "flash", "flash-override"],
  drsn: ["routine", "priority", "immediate", "flash", "flash-override", "flash-override-override"],
};
/** Namespaces whose values run .4 (lowest) … .0 (highest). */
const NUMBERED = new Set(["q735", "ets", "wps", "esnet"]);

export const RESOURCE_PRIORITY_LIMITS = { chars: 2048, values: 16 };

/** Parses every Resource-Priority line into known namespace values, unknown ones dropped. */
export function parseResourcePriority(
  lines: readonly string[] | string | undefined,
): ResourcePriority[] {
  const list = typeof lines === "string" ? [lines] : (lines ?? []);
  const text = list
    .filter((l) => typeof l === "string")
    .join(",")
    .slice(0, RESOURCE_PRIORITY_LIMITS.chars);
  const out: ResourcePriority[] = [];
  for (const item of text.split(",").slice(0, RESOURCE_PRIORITY_LIMITS.values)) {
    const t = item.trim().toLowerCase();
    const dot = t.indexOf(".");
    if (dot <= 0) continue;
    const namespace = t.slice(0, dot);
    const value = t.slice(dot + 1);
    const named = NAMED[namespace];
    let level = -1;
    if (named) level = named.indexOf(value);
    else if (NUMBERED.has(namespace) && /^[0-4]$/.test(value)) level = 4 - Number(value);
    if (level >= 0) out.push({ namespace, value, level });
  }
  return out;
}

/** The highest level among the values, or -1 when there is none. */
export function highestLevel(values: readonly ResourcePriority[]): number {
  return values.reduce((m, v) => Math.max(m, v.level), -1);
}
