/**
 * A statement timeout for the reads SQL over HTTP runs on Postgres, and only for those.
 *
 * Ponder's `client()` middleware runs each /sql query as `db.transaction(..., { accessMode:
 * "read only" })` on the read-only pool, whose statement_timeout (30 s) is shared with GraphQL and
 * the JSON endpoints. Inside `statementTimeoutScope.run(ms, ...)` (the SQL guard wraps each /sql
 * request in it), every read-only transaction of `db` first runs `SET LOCAL statement_timeout`,
 * which ends with the transaction; outside the scope transactions are left as they are.
 *
 * PGlite ignores statement_timeout (measured: a 27M-row cross join ran its full 3 s with the
 * timeout at 200 ms, and blocked the event loop throughout), so on PGlite the guard's cost check
 * before the query runs is the only bound.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** Milliseconds the reads started inside the scope may run. */
export const statementTimeoutScope = new AsyncLocalStorage<number>();

interface Executes {
  execute(query: string): PromiseLike<unknown>;
}
interface Transactional {
  transaction(run: (tx: Executes) => Promise<unknown>, config?: { accessMode?: string }): Promise<unknown>;
}

const bounded = new WeakSet<object>();

/** Makes `db.transaction` apply the scope's timeout to read-only transactions (once per db). */
export function boundReadOnlyTransactions(db: Transactional): void {
  if (bounded.has(db)) return;
  bounded.add(db);
  const transaction = db.transaction.bind(db);
  db.transaction = (run, config) => {
    const timeoutMs = statementTimeoutScope.getStore();
    if (timeoutMs === undefined || config?.accessMode !== "read only") return transaction(run, config);
    return transaction(async (tx) => {
      await tx.execute(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
      return run(tx);
    }, config);
  };
}
