// Runs a command in a child Node process and reports its wall time and peak resident memory
// (maxRSS from the child itself, via a preloaded exit hook), so figures cover exactly that process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RSS_HOOK = fileURLToPath(new URL('./reportRss.cjs', import.meta.url));

export async function measureNode(args, { env = {}, cwd } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-rss-'));
  const rssFile = join(scratch, 'rss');
  const started = process.hrtime.bigint();
  const { code, stdout, stderr } = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', RSS_HOOK, ...args], {
      cwd,
      env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile },
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
  const peakMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
  rmSync(scratch, { recursive: true, force: true });
  return { code, stdout, stderr, seconds, peakMb };
}
