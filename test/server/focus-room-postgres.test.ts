/**
 * The conference focus end to end (focus-room.test.ts) once more, with the
 * exchange reading its table from PostgreSQL (a private cluster).
 */
process.env.DESKPHONE_FOCUS_DB = "postgres";
await import("./focus-room.test.ts");
