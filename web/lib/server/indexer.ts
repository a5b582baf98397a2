/** The indexer's JSON and GraphQL APIs as the web server reads them (INDEXER_URL), with a short timeout. */
import { INDEXER_URL } from "./config.ts";

export async function indexerJson<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${INDEXER_URL}${path}`, { ...init, cache: "no-store", signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`indexer ${res.status}`);
  return (await res.json()) as T;
}

/** A GraphQL query (values as `variables`: they do not count against the indexer's token budget). */
export async function indexerGraphql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const body = await indexerJson<{ data?: T; errors?: { message?: string }[] }>("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  if (body.errors?.length || !body.data) throw new Error(`indexer graphql: ${body.errors?.[0]?.message ?? "no data"}`);
  return body.data;
}

type Page<T> = { items: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

/**
 * Every row of one list field, page by page (`$after` cursor, pages of 1,000), up to `maxPages`.
 * `query` must take `$after: String` and select `items` and `pageInfo { hasNextPage endCursor }`.
 */
export async function indexerPages<T>(query: string, field: string, variables: Record<string, unknown>, maxPages = 50): Promise<T[]> {
  const rows: T[] = [];
  let after: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const data: Record<string, Page<T>> = await indexerGraphql<Record<string, Page<T>>>(query, { ...variables, after });
    const list = data[field]!;
    rows.push(...list.items);
    if (!list.pageInfo.hasNextPage) return rows;
    after = list.pageInfo.endCursor;
  }
  throw new Error(`indexer: more than ${maxPages} pages of ${field}`);
}
