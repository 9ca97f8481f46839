// Runs a command in a child process and reports its wall time; for a Node process also its peak
// resident memory (maxRSS from the child itself, via a preloaded exit hook), so figures cover exactly
// that process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RSS_HOOK = fileURLToPath(new URL('./reportRss.cjs', import.meta.url));

export async function measureNode(args, { env = {}, cwd } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-rss-'));
  const rssFile = join(scratch, 'rss');
  const result = await measureCommand(process.execPath, ['--require', RSS_HOOK, ...args], {
    cwd,
    env: { ...env, BENCH_RSS_FILE: rssFile },
  });
  const peakMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
  rmSync(scratch, { recursive: true, force: true });
  return { ...result, peakMb };
}

/** Any command: exit code, output and wall seconds. */
export async function measureCommand(command, args, { env = {}, cwd } = {}) {
  const started = process.hrtime.bigint();
  const { code, stdout, stderr } = await new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { code, stdout, stderr, seconds };
}
