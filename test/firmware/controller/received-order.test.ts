/**
 * Where an incoming call's `received` record goes among its effects
 * (firmware/controller/incoming.ts): an ordinary call's answer on the wire
 * (the 180, a refusal) comes first and the record right after it, before any
 * other record of that call; an emergency's record is written ahead of its
 * answer. docs/sip.md, "INVITE → 180".
 */
import { describe, expect, it } from "vitest";
import { closeOpenCalls } from "../../../firmware/app/journal-restart.ts";
import type { Effect } from "../../../firmware/controller/effects.ts";
import { PhoneDriver } from "../../support/phone-driver.ts";

/** The effects as words: "send-ringing:n1", "journal:received:n1", … */
const words = (fx: Effect[]) =>
  fx.flatMap((e) =>
    e.type === "send-ringing" || e.type === "reject" || e.type === "answer"
      ? [`${e.type}:${e.callId}`]
      : e.type === "journal"
        ? [`journal:${e.record.event}:${e.record.callId}`]
        : [],
  );

describe("an incoming call's received record", () => {
  it("an ordinary call that rings: the 180 first, then received, then rung", () => {
    const d = new PhoneDriver();
    expect(words(d.incoming("n1"))).toEqual([
      "send-ringing:n1",
      "journal:received:n1",
      "journal:rung:n1",
    ]);
  });

  it("an ordinary call refused as busy: the 486 first, then received, then refused", () => {
    const d = new PhoneDriver();
    d.answered("a");
    expect(d.state.phase.kind).toBe("talking");
    expect(words(d.incoming("b"))).toEqual(["reject:b", "journal:received:b", "journal:refused:b"]);
    // Received before its closing record: at restart the call is not seen as left open.
    const stored = d.journal().map((r) => ({ ...r, time: "" }));
    expect(closeOpenCalls(stored, 0).map((r) => r.callId)).toEqual(["a"]);
  });

  it("an emergency: received is written ahead of its 180", () => {
    const d = new PhoneDriver();
    expect(words(d.incoming("e1", "emergency"))).toEqual([
      "journal:received:e1",
      "send-ringing:e1",
      "journal:rung:e1",
    ]);
  });

  it("an emergency refused while another emergency rings with one waiting: received ahead of the 486", () => {
    const d = new PhoneDriver();
    d.incoming("e1", "emergency");
    d.incoming("e2", "emergency");
    expect(words(d.incoming("e3", "emergency"))).toEqual([
      "journal:received:e3",
      "reject:e3",
      "journal:missed:e3",
    ]);
  });
});
