/**
 * The call-media contract suite (audio/call-media.ts): one set of cases run
 * against each implementation — the native media thread the firmware runs
 * and RtpSession, the JavaScript fallback — through the contract alone. Real
 * UDP on loopback, real RTP and RTCP, real ALSA devices (project-local file
 * PCMs, test/support/alsa-lab.ts). The cases live in call-media-contract/.
 */
import { describe } from "vitest";
import { callCases } from "./call-media-contract/calls.ts";
import { IMPLEMENTATIONS, type Implementation } from "./call-media-contract/kit.ts";
import { packetTimeCases } from "./call-media-contract/packet-time.ts";
import { sourceCases } from "./call-media-contract/sources.ts";

function contract(impl: Implementation): void {
  describe("calls", () => callCases(impl));
  describe("whom media is taken from", () => sourceCases(impl));
  describe("packet time", () => packetTimeCases(impl));
}

describe.each(IMPLEMENTATIONS)("call media: $name", (impl) => {
  if (impl.skip) {
    describe.skip(impl.skip, () => contract(impl));
    return;
  }
  contract(impl);
});
