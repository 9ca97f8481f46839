// A batch command action: reads invoices as JSON Lines on stdin and answers one JSON line per record.
import { createInterface } from 'node:readline';

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const invoice = JSON.parse(line);
  process.stdout.write(JSON.stringify({ key: invoice.invoice, ok: true }) + '\n');
}
