-- Sets up the tables runbooks/postgres-orders.backfill works on (psql -f, or the tests).
-- orders.paid_cents was added after a bug stopped writing it; payments holds what was really paid.
DROP TABLE IF EXISTS payments, orders;
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer text NOT NULL,
  paid_cents bigint
);
CREATE TABLE payments (
  id bigserial PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id),
  cents bigint NOT NULL,
  settled boolean NOT NULL DEFAULT true
);
INSERT INTO orders (id, customer)
  SELECT i, 'customer-' || (i % 37) FROM generate_series(1, 300) AS i;
-- One to three settled payments per order, and an unsettled one on every tenth order (not counted).
INSERT INTO payments (order_id, cents)
  SELECT o, 1000 + (o * 7 + n * 13) % 5000 FROM generate_series(1, 300) AS o, generate_series(1, 1 + o % 3) AS n;
INSERT INTO payments (order_id, cents, settled)
  SELECT o, 99999, false FROM generate_series(10, 300, 10) AS o;
