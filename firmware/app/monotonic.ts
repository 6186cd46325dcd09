/** The phone's monotonic clock, ms: the `at` of every controller event. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
