// A module action: the runner calls `handler` for each record during a real run, and only
// `dryRun` (which must have no side effect) during a dry run.
interface Subscription {
  id: number;
  plan: string;
  seats: number;
}

interface Context {
  key: string;
  idempotencyKey?: string;
  env: Record<string, string>;
}

const PRICE_PER_SEAT: Record<string, number> = { basic: 4, team: 9, business: 15 };

function newPrice(record: Subscription): number {
  return (PRICE_PER_SEAT[record.plan] ?? 0) * record.seats;
}

export async function handler(record: Subscription, ctx: Context): Promise<void> {
  const response = await fetch(`${ctx.env.BILLING_URL}/subscriptions/${encodeURIComponent(ctx.key)}/price`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': ctx.idempotencyKey ?? '' },
    body: JSON.stringify({ monthly: newPrice(record) }),
  });
  if (!response.ok) {
    const error = new Error(`billing answered ${response.status}`) as Error & { retryable?: boolean };
    error.retryable = response.status === 429 || response.status >= 500;
    throw error;
  }
}

export function dryRun(record: Subscription): { monthly: number } {
  return { monthly: newPrice(record) };
}
