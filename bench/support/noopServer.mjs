// A no-op HTTP target, run as its own process so it never shares an event loop with the client it
// measures. Answers every request 200 `{}` at once. Arrival times (epoch ms, sub-ms precision) are kept
// when started with --record, for the rate and kill-switch benchmarks; GET /__bench returns them.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const record = process.argv.includes('--record');
const arrivals = [];
let count = 0;

const server = createServer((request, response) => {
  if (request.url === '/__bench') return reply(response, JSON.stringify({ count, arrivals }));
  if (request.url === '/__bench/reset') {
    count = 0;
    arrivals.length = 0;
    return reply(response, '{}');
  }
  count += 1;
  if (record) arrivals.push(performance.timeOrigin + performance.now());
  // Drain the body so the keep-alive connection can carry the next request.
  request.resume();
  request.on('end', () => reply(response, '{}'));
});
server.keepAliveTimeout = 30_000;

function reply(response, body) {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
// The benchmark ends this process by closing its stdin, so a crashed benchmark leaves no server behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
