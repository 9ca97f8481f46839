/**
 * Command-line values checked before a command records or writes anything: a bad one is the user's to
 * fix (exit 2, saying what to type), never an internal error, and never leaves a run behind.
 */
import * as fs from 'node:fs';
import { rangeProblem, typedNumber } from '../core/model/numericRanges';
import { UserError } from '../core/model/types';
import { metricsHostProblem, type MetricsAddress } from '../core/run/metricsServer';

/**
 * `--metrics-port PORT` (a whole number from 1 to 65,535) and `--metrics-host ADDRESS` (an IP address of
 * this host; 127.0.0.1 when left out). An address without a port serves nothing: refused, not ignored.
 */
export function parseMetricsAddress(options: {
  metricsPort?: string;
  metricsHost?: string;
}): MetricsAddress | undefined {
  const { metricsPort, metricsHost } = options;
  if (metricsHost !== undefined) {
    const problem = metricsHostProblem(metricsHost);
    if (problem) throw new UserError(`--metrics-host ${metricsHost}: ${problem}`);
    if (metricsPort === undefined) {
      throw new UserError(
        `--metrics-host ${metricsHost}: serves metrics only with --metrics-port PORT: add it, or leave --metrics-host out`,
      );
    }
  }
  if (metricsPort === undefined) return undefined;
  const port = typedNumber(metricsPort);
  const problem = rangeProblem('--metrics-port', port);
  if (problem) throw new UserError(`--metrics-port ${metricsPort}: ${problem}`);
  return { port, ...(metricsHost !== undefined ? { host: metricsHost } : {}) };
}

/** `backfill worker --wait-for-run SECONDS`: from 0 (look once) to a day. */
export function parseWaitSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = typedNumber(value);
  const problem = rangeProblem('--wait-for-run', seconds);
  if (problem) throw new UserError(`--wait-for-run ${value}: ${problem}`);
  return seconds;
}

/** Opens `--events FILE` for appending; a folder or a missing folder is a usage error that says so. */
export function openEventsFile(file: string | undefined): number | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.openSync(file, 'a');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR'
        ? 'it is a folder'
        : code === 'ENOENT'
          ? 'its folder does not exist'
          : (error as Error).message;
    throw new UserError(`--events ${file}: cannot append to it (${why}): name a file in an existing folder`);
  }
}
