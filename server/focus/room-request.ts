/**
 * What the exchange tells the focus about a room to open, in headers only the
 * exchange writes (deskphone-exchange.cfg, route[TOFOCUS]; it removes them
 * from every request a client sends, as it does Alert-Info):
 *
 *   X-Deskphone-Emergency: 112
 *   X-Deskphone-Bound: 2001,2002,2003
 *
 * They count only on an INVITE that arrived over the verified exchange
 * connection (sip/exchange-connection.ts), and only when each value passes
 * the rules the admin command writes with (server/emergency-table.ts): a
 * number 1-32 of 0-9 * # +, users 1-64 of A-Z a-z 0-9 . _ ~ -. Nothing of the
 * request is used otherwise; the focus builds its own requests from these
 * checked values.
 */

export const EMERGENCY_HEADER = "X-Deskphone-Emergency";
export const BOUND_HEADER = "X-Deskphone-Bound";

const NUMBER = /^[0-9*#+]{1,32}$/;
const USER = /^[A-Za-z0-9._~-]{1,64}$/;
/** More bound users than this in one room is refused (a runaway table, not a site). */
export const MAX_BOUND = 64;

export interface RoomRequest {
  number: string;
  users: string[];
}

/**
 * The room an INVITE asks for, or why it is refused. `headers(name)` gives
 * every value of a header (sip.js `getHeaders`).
 */
export function readRoomRequest(
  trusted: boolean,
  headers: (name: string) => string[],
): RoomRequest | { refused: string } {
  if (!trusted) return { refused: "not from the verified exchange connection" };
  const numbers = headers(EMERGENCY_HEADER).map((v) => v.trim());
  const bound = headers(BOUND_HEADER).map((v) => v.trim());
  if (numbers.length !== 1 || bound.length !== 1) {
    return { refused: `needs one ${EMERGENCY_HEADER} and one ${BOUND_HEADER} from the exchange` };
  }
  const number = numbers[0] as string;
  if (!NUMBER.test(number)) return { refused: "the emergency number is not 1-32 of 0-9 * # +" };
  const users = [...new Set((bound[0] as string).split(","))];
  if (users.length > MAX_BOUND) return { refused: `more than ${MAX_BOUND} bound users` };
  if (!users.every((u) => USER.test(u))) {
    return { refused: "a bound user is not 1-64 of A-Z a-z 0-9 . _ ~ -" };
  }
  return { number, users };
}
