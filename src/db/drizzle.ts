/**
 * drizzle-orm over our SqlDriver (pg-proxy: drizzle builds the SQL and maps the rows, the
 * driver runs it), so typed queries run unchanged on PostgreSQL and PGlite and go through the
 * same connection pool, error mapping and retry as every other statement.
 */
import { drizzle, type PgRemoteDatabase } from 'drizzle-orm/pg-proxy';
import type { SqlDriver } from './driver.js';
import { schema } from './schema.js';

export type Db = PgRemoteDatabase<typeof schema>;

export function drizzleOver(driver: Pick<SqlDriver, 'query' | 'queryArrays'>): Db {
  return drizzle(
    async (text, params, method) => ({ rows: method === 'all' ? await driver.queryArrays(text, params) : await driver.query(text, params) }),
    { schema },
  );
}
