/** Questions about the database's schema itself (start-up diagnostics). */
import type pg from "pg";

/** The table exists (created by a migration), asked on `pool` — e.g. the realtime adapter's own pool. */
export async function tableExists(pool: pg.Pool, table: string): Promise<boolean> {
  const r = await pool.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [table]);
  return r.rows[0]?.present === true;
}
