/** How every part of the running phone logs (to the journal of systemd, or a test). */
export type Log = (level: "debug" | "info" | "warn" | "error", message: string) => void;
