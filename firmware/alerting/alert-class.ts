/**
 * Alert classes: what the phone does for a kind of incoming call, and the
 * ordered rules that pick a class from the request's headers. Both are
 * configuration; these are the defaults (docs/alerting.md explains each).
 */
import type { Country } from "./cadences.ts";
import { LED, type LedName, type LedPattern } from "./led-pattern.ts";

/** What happens to a call of this class when the phone is already busy. */
export type BusyPolicy = "preempt" | "call-waiting" | "busy";

export interface AlertClass {
  name: string;
  /** A cadence name from cadences.ts; "ring" is the phone's national ring preset. */
  cadence: string;
  /** The LED that shows the call while it rings, and how. */
  led: { name: LedName; pattern: LedPattern };
  /** Higher preempts lower (when `whenBusy` is "preempt"); equal never does. */
  precedence: number;
  whenBusy: BusyPolicy;
  /** Rings even when do-not-disturb is on. */
  bypassDnd: boolean;
  /** "full" rings at full level whatever the user's volume. */
  ringLevel: "user" | "full";
  /** Honoured only on calls that came from the trusted exchange connection. */
  trustedOnly: boolean;
  /** Journalled as an emergency; a missed one keeps the emergency LED on. */
  emergency: boolean;
}

/**
 * A rule matches when any of its conditions holds; the first rule that
 * matches names the class. A call no rule matches rings as `normal`.
 */
export interface AlertRule {
  class: string;
  /** Alert-Info tokens, `info=` texts, URIs or `urn:alert:` URNs (no case). */
  alertInfo?: readonly string[];
  /** Priority header values (RFC 3261 §20.26). */
  priority?: readonly string[];
  /** Resource-Priority at or above this level (0 routine … 4 flash-override, 5 drsn top). */
  resourcePriorityAtLeast?: number;
}

export interface AlertConfig {
  classes: Readonly<Record<string, AlertClass>>;
  rules: readonly AlertRule[];
  /** The national preset behind the "ring" cadence and the call-progress tones. */
  country: Country;
}

const ringing = { name: "line" as const, pattern: LED.blink(500, 500) };
const plain = (name: string, cadence: string): AlertClass => ({
  name,
  cadence,
  led: ringing,
  precedence: 0,
  whenBusy: "busy",
  bypassDnd: false,
  ringLevel: "user",
  trustedOnly: false,
  emergency: false,
});

export const DEFAULT_CLASSES: Readonly<Record<string, AlertClass>> = Object.fromEntries(
  [
    {
      name: "emergency",
      cadence: "emergency",
      led: { name: "emergency" as const, pattern: LED.blink(100, 100) },
      precedence: 100,
      whenBusy: "preempt" as const,
      bypassDnd: true,
      ringLevel: "full" as const,
      trustedOnly: true,
      emergency: true,
    },
    {
      ...plain("precedence", "precedence"),
      precedence: 50,
      whenBusy: "call-waiting" as const,
      bypassDnd: true,
      trustedOnly: true,
    },
    { ...plain("priority", "priority"), precedence: 10, whenBusy: "call-waiting" as const },
    plain("normal", "ring"),
    plain("internal", "bellcore-dr2"),
    plain("external", "ring"),
    plain("bellcore-dr1", "bellcore-dr1"),
    plain("bellcore-dr2", "bellcore-dr2"),
    plain("bellcore-dr3", "bellcore-dr3"),
    plain("bellcore-dr4", "bellcore-dr4"),
    plain("bellcore-dr5", "bellcore-dr5"),
  ].map((c) => [c.name, c]),
);

/** The exchange's default (server/emergency-table.ts) plus the vendor texts for emergency. */
export const EMERGENCY_ALERT_INFO = [
  "emergency",
  "alert-emergency",
  "http://deskphone.invalid/alert/emergency",
];

export const DEFAULT_RULES: readonly AlertRule[] = [
  {
    class: "emergency",
    alertInfo: EMERGENCY_ALERT_INFO,
    priority: ["emergency"],
    resourcePriorityAtLeast: 4,
  },
  { class: "precedence", resourcePriorityAtLeast: 1 },
  { class: "priority", alertInfo: ["urn:alert:priority:high"], priority: ["urgent"] },
  ...[1, 2, 3, 4, 5].map((n) => ({
    class: `bellcore-dr${n}`,
    alertInfo: [`bellcore-dr${n}`, `alert-bellcore-dr${n}`],
  })),
  { class: "internal", alertInfo: ["internal", "alert-internal", "urn:alert:source:internal"] },
  { class: "external", alertInfo: ["external", "alert-external", "urn:alert:source:external"] },
];

export const DEFAULT_ALERT_CONFIG: AlertConfig = {
  classes: DEFAULT_CLASSES,
  rules: DEFAULT_RULES,
  country: "us",
};
