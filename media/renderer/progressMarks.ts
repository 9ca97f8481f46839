/**
 * The moments a run's chart marks, derived from two successive statuses of the run: a pause, a resume, a
 * change of the configured rate. Pure (no DOM, no vscode): the extension's monitor calls it once a
 * second, and it is unit-tested.
 */
import type { RunStatus } from '../../src/core/run/runStatus';
import { formatRate } from './format';
import type { ProgressMark } from './payloads';

type MarkedStatus = Pick<RunStatus, 'state'> & { rate: Pick<RunStatus['rate'], 'configured'> };

/** The marks between `previous` and `next` (none for the first status), stamped `t`. */
export function marksBetween(
  previous: MarkedStatus | undefined,
  next: MarkedStatus,
  t: number,
): ProgressMark[] {
  if (!previous) return [];
  const marks: ProgressMark[] = [];
  if (previous.state !== 'paused' && next.state === 'paused')
    marks.push({ t, kind: 'paused', label: 'paused' });
  if (previous.state === 'paused' && next.state === 'running') {
    marks.push({ t, kind: 'resumed', label: 'resumed' });
  }
  const [from, to] = [previous.rate.configured, next.rate.configured];
  if (from !== to && Number.isFinite(from) && Number.isFinite(to)) {
    marks.push({ t, kind: 'rate', label: `rate ${formatRate(from)} → ${formatRate(to)}` });
  }
  return marks;
}

/** The mark a monitor that started following a run already going puts at its first sample. */
export function attachedMark(t: number): ProgressMark {
  return { t, kind: 'attached', label: 'attached (earlier history not kept)' };
}
