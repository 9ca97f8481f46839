// What one would write by hand, run as its own process like `backfill run` is, so both figures include
// starting Node: read the rows, then CONCURRENCY workers each take the next batch and run its UPDATEs in
// one transaction on their own connection. Usage: node sqlHandLoop.mjs URL BATCH_SIZE CONCURRENCY
import pg from 'pg';

const [url, batchSize, concurrency] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const pool = new pg.Pool({ connectionString: url, max: concurrency });
try {
  const { rows: payments } = await pool.query(
    'SELECT order_id AS id, amount FROM payments ORDER BY order_id',
  );
  let next = 0;
  const worker = async () => {
    const client = await pool.connect();
    try {
      while (next < payments.length) {
        const batch = payments.slice(next, next + batchSize);
        next += batchSize;
        await client.query('BEGIN');
        for (const row of batch) {
          await client.query('UPDATE orders SET total = $1 WHERE id = $2', [row.amount, row.id]);
        }
        await client.query('COMMIT');
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
} finally {
  await pool.end();
}
