/**
 * One rate and one concurrency for a whole fleet: each live member takes its share, re-computed whenever
 * a member joins, leaves or is lost. Pure. This folder cannot depend on the vscode API.
 *
 * Why an even split and not a central token bucket in the database: a permit per record would cost a
 * database round trip per record, the very cost the fleet exists to spread. An even split costs nothing
 * per record. A member with nothing left to send takes no share (fleetMembers.ts: `waiting`, from the
 * moment its last chunk is fed until it sends from another, and until its first unit to send while it starts), so
 * the fleet's total is kept as members come, go and run dry.
 */

/** The members sharing, with `me` counted even before its first heartbeat is seen by the others. */
function sharers(members: readonly string[], me: string): string[] {
  return [...new Set([...members, me])].sort();
}

/**
 * This member's share of the fleet's rate, records per second: `rate / members`, so the shares of all
 * the live members add up to `rate` exactly.
 */
export function rateShare(rate: number, members: readonly string[], me: string): number {
  return rate / sharers(members, me).length;
}

/**
 * This member's share of the fleet's concurrency: whole slots, the remainder going to the first members
 * in id order, so the shares add up to `concurrency` exactly — unless the fleet has more members than
 * slots: every member keeps one slot (with none it could never finish), so the fleet then has one
 * request in flight per member.
 */
export function concurrencyShare(concurrency: number, members: readonly string[], me: string): number {
  const all = sharers(members, me);
  const base = Math.floor(concurrency / all.length);
  const extra = all.indexOf(me) < concurrency % all.length ? 1 : 0;
  return Math.max(1, base + extra);
}
