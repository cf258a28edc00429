/**
 * Changing what ALTER TABLE cannot (a CHECK constraint, a column type, a foreign key): the
 * recipe of https://www.sqlite.org/lang_altertable.html#otheralter — create the new shape
 * under a temporary name, copy the rows, drop the old table, rename the new one into its
 * place, recreate its indexes and triggers and any view or trigger elsewhere that names it.
 *
 * Run it only as a migration step (migrate.ts): that is where foreign keys are off (set
 * outside the transaction) and `foreign_key_check` runs before commit. With foreign keys
 * on, DROP TABLE would cascade into every child table. The new table is created as
 * `<table>__rebuild` and renamed to `<table>`, never the old one renamed away: since SQLite
 * 3.26 a rename rewrites other tables' REFERENCES to the new name, which would leave them
 * pointing at a dropped table. References to `<table>` in other tables stay as written and
 * resolve to the rebuilt table.
 */
import type { Db } from './db.ts';

/** A table to rebuild in a new shape. */
export interface TableRebuild {
  table: string;
  /** The CREATE TABLE statement of the new shape, for a table called `name`. */
  create: (name: string) => string;
  /**
   * SQL expressions (over the old row) for new columns that are not filled from the old
   * column of the same name. New columns in neither get their DEFAULT.
   */
  fill?: Readonly<Record<string, string>>;
}

interface SchemaObject {
  type: 'index' | 'trigger' | 'view';
  name: string;
  tbl_name: string;
  sql: string;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function columnsOf(db: Db, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${quote(table)})`).all() as { name: string }[]).map((c) => c.name);
}

function countOf(db: Db, table: string): number {
  return db.prepare(`SELECT count(*) FROM ${quote(table)}`).pluck().get() as number;
}

/** Indexes and triggers of `table`, and views and other tables' triggers whose SQL names it. */
function dependents(db: Db, table: string): { own: SchemaObject[]; naming: SchemaObject[] } {
  // In creation order, so a view built on another view is recreated after it.
  const all = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL ORDER BY rowid").all() as SchemaObject[];
  const names = new RegExp(`(^|[^A-Za-z0-9_$])["\`[]?${table.replace(/[$]/g, '\\$')}["\`\\]]?($|[^A-Za-z0-9_$])`, 'i');
  const own = all.filter((o) => o.tbl_name === table && o.type !== 'view');
  const naming = all.filter((o) => o.tbl_name !== table && names.test(o.sql));
  return { own, naming };
}

/** Rebuilds `spec.table` in its new shape, keeping every row; see the module comment. */
export function rebuildTable(db: Db, spec: TableRebuild): void {
  if (!db.inTransaction) throw new Error(`rebuilding ${spec.table} must run inside a migration's transaction`);
  if ((db.pragma('foreign_keys', { simple: true }) as number) !== 0) {
    throw new Error(`rebuilding ${spec.table} needs foreign keys off (set outside the transaction): run it as a migration step`);
  }
  const { table } = spec;
  const temp = `${table}__rebuild`;
  const { own, naming } = dependents(db, table);
  // A view or trigger that names the table would fail the rename's schema check once it is dropped.
  for (const o of naming) db.exec(`DROP ${o.type.toUpperCase()} ${quote(o.name)}`);
  db.exec(spec.create(temp));
  const oldColumns = new Set(columnsOf(db, table));
  const filled = columnsOf(db, temp).flatMap((c) => {
    const expr = spec.fill?.[c] ?? (oldColumns.has(c) ? quote(c) : undefined);
    return expr === undefined ? [] : [{ column: quote(c), expr }];
  });
  db.exec(`INSERT INTO ${quote(temp)} (${filled.map((f) => f.column).join(', ')}) SELECT ${filled.map((f) => f.expr).join(', ')} FROM ${quote(table)}`);
  const before = countOf(db, table);
  const after = countOf(db, temp);
  if (before !== after) throw new Error(`rebuilding ${table} copied ${after} of its ${before} rows`);
  db.exec(`DROP TABLE ${quote(table)}`);
  db.exec(`ALTER TABLE ${quote(temp)} RENAME TO ${quote(table)}`);
  for (const o of [...own, ...naming]) db.exec(o.sql);
}
