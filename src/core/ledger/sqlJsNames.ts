/**
 * The `names` table of the embedded ledger: outcome rows store their chain, run and cell as small ids
 * (schema 4 keeps rows small), and this table turns names into ids and back, caching both directions.
 */
import type { SqlValue } from 'sql.js';
import { notALedger } from './sqlJsFile';

const INSERT_NAME = 'INSERT OR IGNORE INTO names (value) VALUES (?)';
const SELECT_NAME_ID = 'SELECT id FROM names WHERE value = ?';
const SELECT_NAME = 'SELECT value FROM names WHERE id = ?';

/** The two statements a name table needs from its ledger's database. */
export interface NameQueries {
  run(sql: string, parameters: SqlValue[]): void;
  /** The first column of the first row, if there is a row. */
  single(sql: string, parameters: SqlValue[]): SqlValue | undefined;
}

/** Names used by one open ledger, as far as it has used them. */
export class NameTable {
  private readonly ids = new Map<string, number>();
  private readonly byId = new Map<number, string>();

  constructor(
    private readonly queries: NameQueries,
    /** The ledger file, for error messages. */
    private readonly file: () => string,
  ) {}

  /** The id of `name`, adding it when it is not there yet. */
  intern(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    this.queries.run(INSERT_NAME, [name]);
    const id = this.idOf(name);
    if (id === undefined) throw new Error(`ledger ${this.file()}: name ${name} was not stored`);
    return id;
  }

  /** The id of `name`, if the ledger has it. */
  idOf(name: string): number | undefined {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    const value = this.queries.single(SELECT_NAME_ID, [name]);
    if (value === undefined) return undefined;
    const id = Number(value);
    this.remember(name, id);
    return id;
  }

  /** The name an outcome row refers to by id; a row referring to no name means a damaged ledger. */
  nameOf(id: SqlValue | undefined): string {
    const known = this.byId.get(Number(id));
    if (known !== undefined) return known;
    const value = this.queries.single(SELECT_NAME, [id ?? null]);
    if (value === undefined) {
      throw notALedger(this.file(), `an outcome refers to name ${String(id)}, which the ledger lacks`);
    }
    this.remember(String(value), Number(id));
    return String(value);
  }

  /** Drops the cache: the ids it holds may no longer be in the database (rollback, reload, close). */
  forget(): void {
    this.ids.clear();
    this.byId.clear();
  }

  private remember(name: string, id: number): void {
    this.ids.set(name, id);
    this.byId.set(id, name);
  }
}
