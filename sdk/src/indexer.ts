/**
 * A typed client for the StreamVault indexer (Ponder 0.16, indexer/): GraphQL documents and SQL
 * live queries whose rows are typed from the indexer's own tables (indexer/ponder.schema.ts,
 * imported for its types only: nothing of Ponder is bundled).
 *
 * - `graphql(document, variables)`: POST /graphql. Documents are declared with `gqlDocument<Result,
 *   Variables>()`, their result types built from the table rows (`IndexerRow<"earning">`).
 * - `live(query, onRows)`: the indexer's SQL-over-HTTP live queries (the protocol of
 *   `@ponder/client`): the rows once from `/sql/db`, then again each time the indexed tables
 *   change, pushed as server-sent events from `/sql/live` (no polling).
 *
 * Values arrive as JSON: Ponder `bigint` (numeric) columns as decimal strings, hex as lowercase.
 */
import type * as schema from "../../indexer/ponder.schema.ts";

type Tables = {
  [K in keyof typeof schema as (typeof schema)[K] extends { $inferSelect: object } ? K : never]: (typeof schema)[K] extends { $inferSelect: infer R } ? R : never;
};

/** A value as JSON carries it: bigint columns become decimal strings. */
type Wire<T> = T extends bigint ? string : T extends bigint | null ? string | null : T;

/** One row of an indexer table (`IndexerRow<"earning">`), as the API returns it. */
export type IndexerRow<Table extends keyof Tables> = { [Column in keyof Tables[Table]]: Wire<Tables[Table][Column]> };

export type IndexerTable = keyof Tables;

/** A GraphQL document with the types of its result and variables. */
export interface GqlDocument<Result, Variables> {
  readonly query: string;
  /** Type carriers only (never set). */
  readonly __result?: Result;
  readonly __variables?: Variables;
}

export function gqlDocument<Result, Variables = Record<string, never>>(query: string): GqlDocument<Result, Variables> {
  return { query };
}

/** A SQL query whose result rows have type `Row` (parameters as `$1`, `$2`, ...). */
export interface LiveQuery<Row> {
  readonly sql: string;
  readonly params: readonly (string | number | boolean)[];
  readonly __row?: Row;
}

export function sqlQuery<Row>(sql: string, params: readonly (string | number | boolean)[] = []): LiveQuery<Row> {
  return { sql, params };
}

export class IndexerError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "IndexerError";
    this.status = status;
  }
}

export interface IndexerClient {
  readonly url: string;
  graphql<Result, Variables>(document: GqlDocument<Result, Variables>, variables?: Variables): Promise<Result>;
  query<Row>(query: LiveQuery<Row>): Promise<Row[]>;
  /** Calls `onRows` with the current rows, then on every change; returns the function that stops it. */
  live<Row>(query: LiveQuery<Row>, onRows: (rows: Row[]) => void, onError?: (error: Error) => void): () => void;
}

/** What `@ponder/client` sends: superjson of `{ sql, params }` (plain JSON values need no superjson meta). */
function encodeSql(query: LiveQuery<unknown>): string {
  return JSON.stringify({ json: { sql: query.sql, params: query.params, typings: query.params.map(() => "none") } });
}

export function createIndexerClient(url: string): IndexerClient {
  const base = url.replace(/\/$/, "");
  const sqlUrl = (method: "db" | "live", query: LiveQuery<unknown>) => `${base}/sql/${method}?sql=${encodeURIComponent(encodeSql(query))}`;
  const client: IndexerClient = {
    url: base,
    async graphql(document, variables) {
      const res = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: document.query, variables: variables ?? {} }),
      });
      const body = (await res.json().catch(() => ({}))) as { data?: unknown; errors?: { message: string }[] };
      if (!res.ok || body.errors?.length) throw new IndexerError(res.status, `indexer GraphQL: ${body.errors?.map((e) => e.message).join("; ") ?? res.statusText}`);
      return body.data as never;
    },
    async query(query) {
      const res = await fetch(sqlUrl("db", query));
      if (!res.ok) throw new IndexerError(res.status, `indexer SQL (${res.status}): ${await res.text()}`);
      return ((await res.json()) as { rows: never[] }).rows;
    },
    live(query, onRows, onError) {
      let stopped = false;
      let source: EventSource | undefined;
      const fail = (e: unknown) => !stopped && onError?.(e instanceof Error ? e : new Error(String(e)));
      // The SSE stream sends a result only when it changed: read the current rows first.
      client.query(query).then((rows) => !stopped && onRows(rows as never), fail);
      source = new EventSource(sqlUrl("live", query));
      source.onmessage = (event) => {
        if (stopped) return;
        try {
          onRows((JSON.parse(event.data as string) as { rows: never[] }).rows);
        } catch (e) {
          fail(e);
        }
      };
      source.onerror = () => fail(new IndexerError(0, "the indexer's live query stream was interrupted (the browser reconnects by itself)"));
      return () => {
        stopped = true;
        source?.close();
        source = undefined;
      };
    },
  };
  return client;
}

// ------------------------------------------------------------------ documents the dashboard uses

export type CreatorEarning = Pick<IndexerRow<"earning">, "token" | "creatorShare" | "collaboratorShare" | "totalCredited" | "withdrawn" | "contentAccessBalance" | "paymentChannelsBalance">;

/** Earnings of one payee per token, live. */
export function earningsQuery(payee: string): LiveQuery<CreatorEarning> {
  return sqlQuery(
    `select token, creator_share as "creatorShare", collaborator_share as "collaboratorShare", total_credited as "totalCredited", withdrawn,
            content_access_balance as "contentAccessBalance", payment_channels_balance as "paymentChannelsBalance"
       from earning where payee = $1 order by token`,
    [payee.toLowerCase()],
  );
}

export type CreatorSale = Pick<IndexerRow<"accessPurchase">, "contentId" | "buyer" | "token" | "amount" | "timestamp">;

/** A creator's latest sales (access purchases), live. */
export function salesQuery(creator: string, limit = 10): LiveQuery<CreatorSale> {
  return sqlQuery(
    `select content_id as "contentId", buyer, token, amount, timestamp from access_purchase where creator = $1 order by block desc, id desc limit ${Math.max(1, Math.min(100, Math.floor(limit)))}`,
    [creator.toLowerCase()],
  );
}

export type CreatorContent = Pick<IndexerRow<"content">, "id" | "tierName" | "manifestPieceCid" | "price" | "paymentToken">;

/** A creator's releases, newest first (GraphQL). */
export const creatorContentsDocument = gqlDocument<{ contents: { items: CreatorContent[] } }, { creator: string }>(
  `query CreatorContents($creator: String!) { contents(where: { creator: $creator }, orderBy: "registeredBlock", orderDirection: "desc", limit: 100) { items { id tierName manifestPieceCid price paymentToken } } }`,
);
