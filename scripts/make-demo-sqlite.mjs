// Builds runbooks/data/subscriptions.sqlite, the SQLite source of runbooks/sqlite-source.backfill.
import initSqlJs from 'sql.js';
import { writeFileSync } from 'node:fs';

const SQL = await initSqlJs();
const db = new SQL.Database();
db.run(
  'CREATE TABLE subscriptions (id INTEGER PRIMARY KEY, plan TEXT NOT NULL, renews_on TEXT, seats INTEGER)',
);
const insert = db.prepare('INSERT INTO subscriptions VALUES (?, ?, ?, ?)');
for (let i = 1; i <= 120; i += 1) {
  insert.run([
    i,
    ['basic', 'team', 'business'][i % 3],
    `2027-0${(i % 9) + 1}-15`,
    i === 42 ? null : (i % 7) + 1,
  ]);
}
insert.free();
writeFileSync(new URL('../runbooks/data/subscriptions.sqlite', import.meta.url), db.export());
