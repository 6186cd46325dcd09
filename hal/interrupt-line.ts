/**
 * A chip's interrupt output on a GPIO line: the TCA8418's INT (open-drain,
 * active-low; datasheet SCPS215 §8.3.5) wired to a line of the Pi's header,
 * read through the character device. The line is an input with the pull-up
 * an open-drain output needs, active-low, with edge events and no debounce:
 * INT is a clean logic signal, and the TCA8418 with INT_CFG set answers a
 * clear while events are still queued by releasing INT for 50 µs and
 * asserting it again, a pulse a debounce would swallow. The line request's fd
 * sits in the event loop's epoll (LineRequestHandle.watch): no timer.
 */
import type { Clock } from "./contracts.ts";
import {
  type GpioIo,
  LineRequestHandle,
  lineOffset,
  type OpenChip,
  openChip,
} from "./gpio-chardev.ts";

/** What a chip driver needs of its interrupt line. */
export interface InterruptLine {
  /**
   * Calls `asserted` on the event loop each time the chip asserts the line;
   * `onError` when the line cannot be read (it is then retried with backoff).
   */
  watch(asserted: () => void, onError?: (e: Error) => void): void;
  close(): void;
}

export class GpioInterruptLine implements InterruptLine {
  private readonly chip: OpenChip;
  private readonly request: LineRequestHandle;

  /** `chip` by label ("pinctrl-bcm2711"), `line` by name ("GPIO4"). */
  constructor(
    private readonly io: GpioIo,
    chip: string,
    readonly line: string,
    private readonly clock: Pick<Clock, "setTimeout" | "clearTimeout">,
  ) {
    this.chip = openChip(io, chip);
    try {
      this.request = new LineRequestHandle(
        io,
        this.chip,
        [
          {
            offset: lineOffset(io, this.chip, line),
            direction: "input",
            bias: "pull-up",
            activeLow: true,
            edges: true,
          },
        ],
        "deskphone-int",
      );
    } catch (e) {
      io.close(this.chip.fd);
      throw e;
    }
  }

  watch(asserted: () => void, onError?: (e: Error) => void): void {
    this.request.watch((e) => e.active && asserted(), this.clock, onError);
  }

  close(): void {
    this.request.release();
    this.io.close(this.chip.fd);
  }
}
