// Starts and stops the no-op target (noopServer.mjs) in its own process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./noopServer.mjs', import.meta.url));

/** Starts the target; `record: true` keeps every arrival time for `stats()`. */
export async function startTarget({ record = false } = {}) {
  const child = spawn(process.execPath, [SERVER, ...(record ? ['--record'] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = await once(child.stdout, 'data');
  const { port } = JSON.parse(String(line));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    /** `{ count, arrivals }` since the start or the last reset. */
    stats: () => getJson(`${url}/__bench`),
    reset: () => getJson(`${url}/__bench/reset`),
    stop: async () => {
      child.stdin.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

function getJson(url) {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}
