/**
 * Which local addresses listen on a TCP port, as the kernel has them (Linux's /proc/net/tcp and tcp6),
 * not as the process that listens says: what a test of a bind address asserts on.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** The socket state /proc/net/tcp writes as 0A. */
const LISTEN = '0A';

/**
 * The addresses listening on `port`: IPv4 ones dotted (`127.0.0.1`, `0.0.0.0`), IPv6 ones as `tcp6:`
 * and the kernel's 32 hex digits (`tcp6:00000000000000000000000000000000` for `::`).
 */
export function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const [file, decode] of [
    ['/proc/net/tcp', ipv4],
    ['/proc/net/tcp6', (hex: string) => `tcp6:${hex}`],
  ] as const) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== LISTEN) continue;
      const [address, portHex] = local.split(':');
      if (Number.parseInt(portHex!, 16) === port) found.push(decode(address!));
    }
  }
  return found.sort();
}

/** `0100007F` → `127.0.0.1`: the kernel writes the address in the host's byte order. */
function ipv4(hex: string): string {
  const bytes = [0, 2, 4, 6].map((at) => Number.parseInt(hex.slice(at, at + 2), 16));
  return (os.endianness() === 'LE' ? bytes.reverse() : bytes).join('.');
}

/** Whether this Linux lets a process bind addresses it does not have (then no EADDRNOTAVAIL). */
export function bindsNonLocalAddresses(): boolean {
  const file = '/proc/sys/net/ipv4/ip_nonlocal_bind';
  return fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '0';
}
