/**
 * src/db/schema.ts (drizzle) against what the migrations really create, on a real database:
 * the same tables, columns (name, SQL type, NOT NULL, has a default), primary keys and unique
 * constraints (names and column order). Adding a table or column in a migration without
 * describing it in schema.ts (or the other way round) fails here.
 */
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { schema } from '../../src/db/schema.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';

interface ColumnShape { name: string; type: string; notNull: boolean; hasDefault: boolean }
interface TableShape { columns: ColumnShape[]; primaryKey: string[]; uniques: Record<string, string[]> }

function fromDrizzle(table: PgTable): TableShape {
  const c = getTableConfig(table);
  const columnPk = c.columns.filter((col) => col.primary).map((col) => col.name);
  return {
    columns: c.columns.map((col) => ({ name: col.name, type: col.getSQLType(), notNull: col.notNull, hasDefault: col.hasDefault })).sort((a, b) => a.name.localeCompare(b.name)),
    primaryKey: c.primaryKeys[0]?.columns.map((col) => col.name) ?? columnPk,
    uniques: Object.fromEntries(c.uniqueConstraints.map((u) => [u.getName(), u.columns.map((col) => col.name)])),
  };
}

async function fromDatabase(t: TestStorage, table: string): Promise<TableShape> {
  const columns = await t.storage.query<ColumnShape>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull", a.atthasdef AS "hasDefault"
       FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attname`, [table]);
  const constraints = await t.storage.query<{ name: string; kind: string; columns: string[] }>(
    `SELECT c.conname AS name, c.contype::text AS kind,
            array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns
       FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u')`, [table]);
  return {
    columns: columns.sort((a, b) => a.name.localeCompare(b.name)),
    primaryKey: constraints.find((c) => c.kind === 'p')?.columns ?? [],
    uniques: Object.fromEntries(constraints.filter((c) => c.kind === 'u').map((c) => [c.name, c.columns])),
  };
}

describeBackends('drizzle schema matches the migrations', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage(backend);
  });
  afterAll(() => t?.close());

  const tables = Object.values(schema);

  it('describes every table the migrations make (partitions aside), and only those', async () => {
    const rows = await t.storage.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`);
    const described = tables.map((x) => getTableConfig(x).name).sort();
    for (const { name } of rows) expect(described, `table ${name} is made by the migrations but missing from src/db/schema.ts`).toContain(name);
    expect(rows.map((r) => r.name)).toEqual(described);
  });

  it.each(tables.map((x) => [getTableConfig(x).name, x] as const))('%s: columns, types, NOT NULL, defaults, keys', async (name, table) => {
    expect(fromDrizzle(table)).toEqual(await fromDatabase(t, name));
  });
});
