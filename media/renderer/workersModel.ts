/**
 * The workers of a distributed run, as the live progress view lists them: per member its host, pid,
 * chunk, rate, records sent, last heartbeat and whether it is alive, lost or ended, under a heading that
 * counts them and says how the fleet is steered. Pure (no DOM), so it is unit-tested; workersView.ts shows
 * it. Every value is text: a host name is shown, never interpreted.
 */
import type { FleetPayload } from './payloads';
import { formatClock, formatCount, formatRate } from './format';
import type { Tone } from './progressModel';

export interface WorkerRow {
  key: string;
  host: string;
  pid: string;
  chunk: string;
  rate: string;
  sent: string;
  heartbeat: string;
  health: string;
  tone: Tone;
}

export interface WorkersModel {
  heading: string;
  rows: WorkerRow[];
  /** Members beyond the rows shown. */
  more: number;
}

/** Rows shown at most: a fleet of hundreds lists its first members and says how many more. */
export const WORKERS_SHOWN = 50;

/** No rows (the list stays hidden) for a local run, or a payload without a usable fleet. */
export function workersModel(fleet: FleetPayload | undefined, now: Date = new Date()): WorkersModel {
  const members = Array.isArray(fleet?.members) ? fleet.members : [];
  if (!fleet || members.length === 0) return { heading: 'Workers', rows: [], more: 0 };
  // Alive first, then lost (an operator acts on those), then ended; each in the order they joined.
  const order = { alive: 0, lost: 1, ended: 2 } as const;
  const sorted = [...members].sort((a, b) => (order[a.health] ?? 3) - (order[b.health] ?? 3));
  const rows = sorted.slice(0, WORKERS_SHOWN).map((member): WorkerRow => ({
    key: String(member.id),
    host: String(member.host),
    pid: String(member.pid),
    chunk: chunkText(member.chunk, member.waiting),
    rate: member.health === 'alive' ? formatRate(member.rate) : '–',
    sent: formatCount(member.sent),
    heartbeat: heartbeatText(member.heartbeatAt, member.silentMs, now),
    ...healthOf(member.health, member.state),
  }));
  const ended = members.length - fleet.alive - fleet.lost;
  const counts = [`${fleet.alive} alive`, `${fleet.lost} lost`, `${ended} ended`].join(', ');
  const steered = steering(fleet.controls);
  return {
    heading: `Workers — ${counts}${steered ? ` · ${steered}` : ''}`,
    rows,
    more: members.length - rows.length,
  };
}

/** Its chunk, and whether it waits (starting, or nothing to claim now: it takes no share of the rate). */
function chunkText(chunk: unknown, waiting: unknown): string {
  const held = typeof chunk === 'number' ? formatCount(chunk) : undefined;
  if (waiting === true) return held === undefined ? 'waiting' : `${held} · waiting`;
  return held ?? '–';
}

function heartbeatText(at: string, silentMs: number, now: Date): string {
  const ago = typeof silentMs === 'number' && Number.isFinite(silentMs) ? silentMs / 1000 : undefined;
  return `${formatClock(at, now)}${ago !== undefined ? ` (${ago.toFixed(1)} s ago)` : ''}`;
}

function healthOf(health: string, state: string): Pick<WorkerRow, 'health' | 'tone'> {
  if (health === 'alive') return { health: 'alive', tone: 'success' };
  if (health === 'lost') return { health: 'LOST: no heartbeat', tone: 'danger' };
  return { health: String(state), tone: 'neutral' };
}

/** How the fleet is steered, when it is: `paused`, `stop sent`, `rate 100/s`, `concurrency 8`. */
function steering(controls: FleetPayload['controls'] | undefined): string {
  if (!controls) return '';
  return [
    controls.paused ? 'paused' : undefined,
    controls.stop ? 'stop sent' : undefined,
    controls.rate !== undefined ? `rate ${formatRate(controls.rate)}` : undefined,
    controls.concurrency !== undefined ? `concurrency ${formatCount(controls.concurrency)}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}
