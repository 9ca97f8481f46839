import { performance } from 'node:perf_hooks';

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on this machine. */
export const now = () => performance.timeOrigin + performance.now();
