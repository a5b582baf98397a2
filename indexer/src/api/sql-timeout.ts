/**
 * How the reads of SQL over HTTP run on Postgres: with a statement timeout of their own, and once.
 *
 * Ponder's `client()` middleware runs each /sql query as `db.transaction(..., { accessMode:
 * "read only" })` on the read-only pool, whose statement_timeout (30 s) is shared with GraphQL and
 * the JSON endpoints; and Ponder's `db.transaction` (its query builder's own property on `db`)
 * retries a failed transaction up to 9 times with backoff (~70 s), running the query again each
 * time, so a query that times out or has a bad value would cost ten runs. Inside
 * `statementTimeoutScope.run(ms, ...)` (the SQL guard wraps each /sql request in it) a read-only
 * `db.transaction(callback, config)` therefore runs through drizzle's own transaction (the method
 * Ponder's wrapper calls, without the retries), and first runs `SET LOCAL statement_timeout`
 * (it ends with the transaction). Errors reach the caller at once, SQLSTATE included. Every other
 * call, and every call outside the scope, is left to Ponder.
 *
 * PGlite ignores statement_timeout (measured: a 27M-row cross join ran its full 3 s with the
 * timeout at 200 ms, and blocked the event loop throughout), and Ponder runs /sql there without
 * a transaction; so on PGlite the guard's cost check before the query runs is the only bound.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** Milliseconds the reads started inside the scope may run (0: the pool's own timeout). */
export const statementTimeoutScope = new AsyncLocalStorage<number>();

interface Executes {
  execute(query: string): PromiseLike<unknown>;
}
interface Transactional {
  transaction(...args: any[]): Promise<unknown>;
}

const bounded = new WeakSet<object>();

/** Makes `db.transaction` apply the scope's timeout to read-only transactions, run once (once per db). */
export function boundReadOnlyTransactions(db: Transactional): void {
  if (bounded.has(db)) return;
  bounded.add(db);
  const transaction = db.transaction.bind(db);
  // drizzle's method on the prototype: what an own `transaction` property (Ponder's retrying one) wraps.
  const drizzleTransaction = (Object.getPrototypeOf(db) as Transactional).transaction;
  db.transaction = (...args: any[]) => {
    const [run, config] = args as [unknown, { accessMode?: string } | undefined];
    const timeoutMs = statementTimeoutScope.getStore();
    // Only the (callback, config) form Ponder's client() uses; every other call passes through.
    if (timeoutMs === undefined || typeof run !== "function" || config?.accessMode !== "read only") return transaction(...args);
    return drizzleTransaction.call(
      db,
      async (tx: Executes) => {
        if (timeoutMs > 0) await tx.execute(`SET LOCAL statement_timeout = ${Math.floor(timeoutMs)}`);
        return run(tx);
      },
      config,
    );
  };
}
