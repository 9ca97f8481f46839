/** How `backfill status` shows a fleet: a summary line, then one line per member. */
import type { FleetStatus } from '../../core/fleet/fleetStatus';
import type { FleetMemberRow } from '../../core/fleet/fleetMembers';

export function describeFleet(fleet: FleetStatus): string[] {
  const ended = fleet.members.length - fleet.alive - fleet.lost;
  const { controls } = fleet;
  const steered = [
    controls.paused ? 'paused' : undefined,
    controls.stop ? 'stop sent' : undefined,
    controls.rate !== undefined ? `rate ${controls.rate}/s` : undefined,
    controls.concurrency !== undefined ? `concurrency ${controls.concurrency}` : undefined,
  ].filter((part) => part !== undefined);
  return [
    `  fleet: ${fleet.alive} alive, ${fleet.lost} lost, ${ended} ended` +
      (steered.length > 0 ? ` (${steered.join(', ')})` : ''),
    ...fleet.members.map(describeMember),
  ];
}

function describeMember(member: FleetMemberRow): string {
  // Waiting: starting (no chunk yet), or nothing to claim until another member's lease runs out — perhaps
  // while the last units of its own chunk are in flight. It takes no share of the fleet's rate meanwhile.
  const chunk =
    (member.chunk !== undefined ? `chunk ${member.chunk}` : 'no chunk') +
    (member.waiting ? ' · waiting (no share of the rate)' : '');
  const silent = `last heartbeat ${member.heartbeatAt} (${(member.silentMs / 1000).toFixed(1)} s ago)`;
  const health =
    member.health === 'ended'
      ? member.state
      : member.health === 'lost'
        ? 'LOST: no heartbeat, killed, frozen or cut off from the database'
        : 'alive';
  return `    ${member.host} pid ${member.pid} · ${chunk} · ${member.rate}/s · ${member.sent} sent · ${silent} · ${health}`;
}
