/**
 * Is a live runner still making progress? The runner rewrites its status file about once a second, so a
 * status much older than that, from a process that still exists, means the runner is stopped (SIGSTOP,
 * a suspended laptop, a debugger) or hung: "running" and a frozen rate would be a lie. This file cannot
 * depend on the vscode API.
 */
import type { RunStatus } from './runStatus';

/** Silence after which a running or paused runner's heartbeat counts as stale: five missed beats. */
export const STALE_HEARTBEAT_MS = 5000;

/**
 * "no sign of life for 12 s" when the runner of a running or paused `status` has not written it for
 * longer than {@link STALE_HEARTBEAT_MS}; undefined while it beats, or when the run has ended.
 */
export function staleHeartbeat(status: RunStatus, now = Date.now()): string | undefined {
  if (status.state !== 'running' && status.state !== 'paused' && status.state !== 'stopping')
    return undefined;
  const silentMs = now - Date.parse(status.updatedAt);
  if (!Number.isFinite(silentMs) || silentMs <= STALE_HEARTBEAT_MS) return undefined;
  return `no sign of life for ${silence(silentMs / 1000)}`;
}

/** A silence as people read it: "12 s", "4 min", "3 h 20 min", "10 days" (never "872068 s"). */
function silence(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
}
