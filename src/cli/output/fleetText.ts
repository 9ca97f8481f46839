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
  const chunk =
    member.chunk !== undefined
      ? `chunk ${member.chunk}`
      : member.waiting
        ? 'waiting for a lease'
        : 'no chunk';
  const silent = `last heartbeat ${member.heartbeatAt} (${(member.silentMs / 1000).toFixed(1)} s ago)`;
  const health =
    member.health === 'ended'
      ? member.state
      : member.health === 'lost'
        ? 'LOST: no heartbeat, killed, frozen or cut off from the database'
        : 'alive';
  return `    ${member.host} pid ${member.pid} · ${chunk} · ${member.rate}/s · ${member.sent} sent · ${silent} · ${health}`;
}
