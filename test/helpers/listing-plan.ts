/**
 * What the database says a listing query costs: its own plan (`explain`) on FerretDB over PostgreSQL
 * and on MongoDB, and PostgreSQL's per-table counters of rows read (`pg_stat_user_tables`), for tests
 * that prove a page of `GET /v1/contacts` reads O(limit) rows (docs/scaling.md).
 */
import mongoose from 'mongoose';
import { Client } from 'pg';

type PgPlan = { 'Node Type': string; 'Plan Rows'?: number; 'Index Cond'?: string; Plans?: PgPlan[] };
const nodes = (p: PgPlan): PgPlan[] => [p, ...(p.Plans ?? []).flatMap(nodes)];

export interface ListingPlan {
  server: 'ferretdb' | 'mongodb';
  pushedDown: { filter: boolean; sort: boolean; limit: boolean };
  /** The plan's nodes from the root: `Limit > Index Scan` (PostgreSQL) or `IXSCAN` (MongoDB) when a page reads `limit` rows. */
  plan: string;
  /** Rows the plan reads: the Limit's rows on PostgreSQL, documents examined on MongoDB, 'all' without a Limit. */
  rowsRead: number | 'all';
  indexCond: string | null;
}

/** The database's plan for one find, the same facts on FerretDB (its EXPLAIN of the SQL it runs) and MongoDB. */
export async function planOf(cmd: { find: string; filter: unknown; sort: unknown; limit: number }): Promise<ListingPlan> {
  const r = await mongoose.connection.db!.command({ explain: cmd, verbosity: 'executionStats' });
  if ('limitPushdown' in r) {
    const root = (r.queryPlanner as { Plan: PgPlan }).Plan;
    const all = nodes(root);
    return {
      server: 'ferretdb',
      pushedDown: { filter: r.filterPushdown, sort: r.sortPushdown, limit: r.limitPushdown },
      plan: all.map((n) => n['Node Type']).join(' > '),
      rowsRead: root['Node Type'] === 'Limit' ? root['Plan Rows'] ?? 'all' : 'all',
      indexCond: all.find((n) => n['Index Cond'])?.['Index Cond'] ?? null,
    };
  }
  const stats = r.executionStats as { totalDocsExamined: number };
  return {
    server: 'mongodb',
    pushedDown: { filter: true, sort: true, limit: true },
    plan: (JSON.stringify(r.queryPlanner.winningPlan).match(/IXSCAN|COLLSCAN|SORT\b/g) ?? []).join(' > '),
    rowsRead: stats.totalDocsExamined,
    indexCond: '_id',
  };
}

export interface TableReads { seqScans: number; seqRowsRead: number; indexRowsFetched: number }

/**
 * PostgreSQL's counters for the table behind a FerretDB collection (schema = database name, table
 * `<collection>_<hash>`), or null when the tests do not run on FerretDB over PostgreSQL
 * (SOJOURN_TEST_POSTGRES_URL, set by `npm test`). A backend reports its counters up to 10 s after its
 * last query, so `settled` reads them 11 s after the queries being measured.
 */
export async function tableReads(database: string, collection: string, opts: { settled?: boolean } = {}): Promise<TableReads | null> {
  const url = process.env.SOJOURN_TEST_POSTGRES_URL;
  if (!url) return null;
  const client = new Client({ connectionString: url.split('?')[0] });
  await client.connect();
  try {
    const read = async (): Promise<TableReads> => {
      const r = await client.query<{ seq_scan: string; seq_tup_read: string; idx_tup_fetch: string }>(
        'SELECT seq_scan, seq_tup_read, coalesce(idx_tup_fetch, 0) AS idx_tup_fetch FROM pg_stat_user_tables WHERE schemaname = $1 AND relname ~ $2',
        [database, `^${collection}_[0-9a-f]{8}$`],
      );
      if (r.rows.length !== 1) throw new Error(`expected one table for ${database}.${collection}, found ${r.rows.length}`);
      return { seqScans: Number(r.rows[0].seq_scan), seqRowsRead: Number(r.rows[0].seq_tup_read), indexRowsFetched: Number(r.rows[0].idx_tup_fetch) };
    };
    // An idle backend reports what its queries read within PGSTAT_IDLE_INTERVAL (10 s) of going idle.
    if (opts.settled) await new Promise((res) => setTimeout(res, 11_000));
    return await read();
  } finally {
    await client.end();
  }
}
