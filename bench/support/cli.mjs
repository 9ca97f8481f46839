// The real CLI (dist/cli.js, built by `npm run bench`), measured or started for steering.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { measureNode } from '../measure.mjs';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Runs `backfill ARGS` to the end: exit code, output, wall seconds and peak RSS. */
export function measureCli(args, env) {
  return measureNode([CLI, ...args], { env });
}

/**
 * Starts `backfill ARGS` without waiting (Node given `nodeArgs` first, e.g. a preloaded hook); `exited`
 * resolves with the exit code (or signal).
 */
export function startCli(args, env = {}, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'close').then(([code, signal]) => code ?? signal);
  return { child, exited, output: () => output };
}

/** Fails loudly with the CLI's own words: a benchmark of a run that failed measures nothing. */
export function assertExit(result, expected, what) {
  if (result.code !== expected) {
    throw new Error(`${what} exited ${result.code}, expected ${expected}:\n${result.stdout}${result.stderr}`);
  }
}

/** Arguments of an execute run of `file` against `url` with a terminal-free, JSON result. */
export const executeArgs = (file, url = 'http://127.0.0.1:9') => [
  'run',
  file,
  '--cell',
  'full',
  '--execute',
  '--var',
  `BASE_URL=${url}`,
  '--json',
  '--no-progress',
  '--no-write-result',
];

/**
 * The row of a benchmark that measured one `backfill` process over `records` records: its records/s,
 * wall time and peak RSS; `target` and `met` say what it was held to (none by default).
 */
export function recordsPerSecondRow(
  name,
  records,
  result,
  { target = 'records/s (no target)', met = '—' } = {},
) {
  const perSecond = records / result.seconds;
  return {
    name,
    figure: `${Math.round(perSecond).toLocaleString('en-US')} records/s (${result.seconds.toFixed(1)} s), peak RSS ${Math.round(result.peakMb)} MB`,
    target,
    met,
    recordsPerSecond: Math.round(perSecond),
    peakMb: Math.round(result.peakMb),
  };
}
