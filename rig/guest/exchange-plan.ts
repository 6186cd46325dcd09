/** Who is who on the guest's lab exchange. */
/** The phone under test (account.user in rig/guest/config.yaml). */
export const PHONE = "2001";
/** Bound to PHONE in the exchange's emergency table. */
export const EMERGENCY_NUMBER = "112";
