/**
 * A real RabbitMQ 3.10 for tests: `rabbitmq-server` in its own process group, with its node, data and
 * log folders in a temporary folder, free ports (AMQP, distribution and its own Erlang port mapper, so
 * no `epmd` outlives the test on the shared 4369), killed with its whole group by `stop()`.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout } from 'node:timers';
import { freePort } from './freePort.mjs';
export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const RABBITMQ_CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';
/** Why RabbitMQ cannot be started here, or undefined. */
export function rabbitmqUnavailable() {
  return fs.existsSync(RABBITMQ_SERVER) ? undefined : 'rabbitmq-server is not installed';
}
/** Starts a broker and waits (up to 90 s, it takes about 10) until it accepts AMQP connections. */
export async function startRabbitmq() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-mq-'));
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const node = `backfill${port}@localhost`;
  fs.writeFileSync(path.join(dir, 'plugins'), '[].\n');
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_NODENAME: node,
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'plugins'),
    ERL_EPMD_PORT: String(epmdPort),
  };
  // Our own port mapper, started first so the broker uses it instead of daemonizing one that outlives it.
  const epmd = spawn('epmd', ['-port', String(epmdPort)], { env, detached: true, stdio: 'ignore' });
  await waitUntil(() => accepts(epmdPort), 10_000);
  const child = spawn(RABBITMQ_SERVER, [], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk) => (output += chunk.toString()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await killGroup(child);
    await killGroup(epmd);
    // The wrapper script exits first; the Erlang VM in its group lets go of the port a moment later.
    await waitUntil(async () => !(await accepts(port)), 10_000).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => output, 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const closeConnections = (reason) => {
    const result = spawnSync(RABBITMQ_CTL, ['close_all_connections', reason], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (result.status !== 0) {
      throw new Error(`rabbitmqctl close_all_connections failed: ${result.stdout}${result.stderr}`);
    }
  };
  return { url: `amqp://guest:guest@127.0.0.1:${port}`, port, stop, closeConnections };
}
async function killGroup(child) {
  if (child.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    return;
  }
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
}
async function waitForPort(port, child, output, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`rabbitmq-server exited (${child.exitCode}): ${output()}`);
    if (output().includes('completed') && (await accepts(port))) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`rabbitmq-server did not start within ${timeoutMs} ms: ${output()}`);
}
function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
async function waitUntil(condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
