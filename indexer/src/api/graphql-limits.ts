/**
 * Admission control for the public GraphQL endpoint: the document is parsed and measured before
 * anything runs, and refused (HTTP 400, GraphQL `errors`) when it nests too deep, would read too
 * many rows, or carries a pagination cursor Ponder could not decode. Without it, a 200-byte query
 * nesting contents -> creatorProfile -> contents a few levels deep issued one query per parent row
 * at every level and blocked the whole server (health checks included) for seconds to forever.
 *
 * Cost model (an upper bound from the document alone, no database access). Every list field of
 * Ponder's schema returns a page (`items`, `pageInfo`, `totalCount`); a page fetch reads up to
 * `limit` (default 50) + `offset` rows and costs 1 + that, `totalCount` is one more query, and
 * whatever is selected inside `items` runs once per row, so its cost is multiplied by `limit`.
 * A singular object (`creator(id:)`, a one-relation such as `creatorProfile`, `_meta`) costs 1 per
 * time it is resolved. Scalars are free; so is introspection (`__schema`, `__type`), answered in
 * memory. Depth counts nested fields: `{ contents { items { id } } }` has depth 3. A field selected
 * twice under one response name is counted twice (GraphQL merges them): still an upper bound.
 *
 * Pure functions of the request body (only the `graphql` parser), so they are tested directly.
 */
import { Kind, parse } from "graphql";
import type { DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, SelectionSetNode, ValueNode } from "graphql";

export interface GraphqlLimits {
  /** Deepest field nesting accepted (GRAPHQL_MAX_DEPTH). */
  maxDepth: number;
  /** Largest estimated cost accepted, in rows read plus queries issued (GRAPHQL_MAX_COST). */
  maxCost: number;
  /** Time after which a running query is answered with an error (GRAPHQL_TIMEOUT_MS). */
  timeoutMs: number;
}

export const DEFAULT_LIMITS: GraphqlLimits = { maxDepth: 8, maxCost: 10_000, timeoutMs: 10_000 };
/** Ponder's page size when `limit` is not given, and its largest accepted `limit`. */
export const DEFAULT_PAGE_SIZE = 50;
/** The token budget Ponder's own parser guard applies (graphql-armor max-tokens default there). */
const MAX_TOKENS = 1000;

const parsedDocuments = new Map<string, DocumentNode>();
const PARSED_DOCUMENT_ENTRIES = 1000;

/**
 * Parses a GraphQL document within Ponder's token budget (throws a GraphQL syntax error). The
 * last 1000 query texts' documents are kept (LRU): clients send the same texts again and again,
 * and nothing mutates a parsed document.
 */
export function parseQuery(query: string): DocumentNode {
  const hit = parsedDocuments.get(query);
  if (hit !== undefined) {
    parsedDocuments.delete(query);
    parsedDocuments.set(query, hit);
    return hit;
  }
  const document = parse(query, { maxTokens: MAX_TOKENS, noLocation: true });
  parsedDocuments.set(query, document);
  if (parsedDocuments.size > PARSED_DOCUMENT_ENTRIES) parsedDocuments.delete(parsedDocuments.keys().next().value!);
  return document;
}

/** Limits from the environment; a missing or malformed value keeps the default. */
export function limitsFromEnv(env: Record<string, string | undefined> = process.env): GraphqlLimits {
  const read = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return env[name] !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
  };
  return {
    maxDepth: read("GRAPHQL_MAX_DEPTH", DEFAULT_LIMITS.maxDepth),
    maxCost: read("GRAPHQL_MAX_COST", DEFAULT_LIMITS.maxCost),
    timeoutMs: read("GRAPHQL_TIMEOUT_MS", DEFAULT_LIMITS.timeoutMs),
  };
}

export interface Estimate {
  depth: number;
  cost: number;
}

/** A request refused before execution: what to answer (GraphQL error shape, HTTP 400). */
export interface Refusal {
  status: 400;
  code: "QUERY_TOO_DEEP" | "QUERY_TOO_COSTLY" | "INVALID_CURSOR";
  message: string;
}

type Variables = Record<string, unknown>;

interface PageMeasure {
  depth: number;
  perRow: number;
  perPage: number;
}

interface Measure {
  depth: number;
  /** Cost of one resolution of the selection set. */
  cost: number;
}

/**
 * Depth and estimated cost of the operation that would run (the named one, else the only one;
 * with several unnamed candidates the most expensive). Fragments are measured once each, so the
 * walk stays linear in the document even when fragments spread one another many times.
 */
export function estimate(document: DocumentNode, variables: Variables = {}, operationName?: string): Estimate {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    else if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
  }
  const chosen = operationName ? operations.filter((o) => o.name?.value === operationName) : operations;
  let worst: Estimate = { depth: 0, cost: 0 };
  for (const operation of chosen) {
    const values: Variables = {};
    for (const definition of operation.variableDefinitions ?? []) {
      if (definition.defaultValue) values[definition.variable.name.value] = literal(definition.defaultValue, {});
    }
    Object.assign(values, variables);
    const measured = measureOperation(operation, fragments, values);
    if (measured.cost > worst.cost || (measured.cost === worst.cost && measured.depth > worst.depth)) worst = measured;
  }
  return worst;
}

function measureOperation(operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>, variables: Variables): Measure {
  const fragmentMeasures = new Map<string, Measure>();
  const inProgress = new Set<string>(); // a fragment cycle is invalid GraphQL: validation reports it

  const selectionSet = (set: SelectionSetNode): Measure => {
    let depth = 0;
    let cost = 0;
    for (const selection of set.selections) {
      let child: Measure;
      if (selection.kind === Kind.FIELD) {
        child = field(selection.name.value, selection.arguments ?? [], selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        child = selectionSet(selection.selectionSet);
      } else {
        child = spread(selection.name.value);
      }
      depth = Math.max(depth, child.depth);
      cost += child.cost;
    }
    return { depth, cost };
  };

  const spread = (name: string): Measure => {
    const known = fragmentMeasures.get(name);
    if (known) return known;
    const definition = fragments.get(name);
    if (!definition || inProgress.has(name)) return { depth: 0, cost: 0 };
    inProgress.add(name);
    const measured = selectionSet(definition.selectionSet);
    inProgress.delete(name);
    fragmentMeasures.set(name, measured);
    return measured;
  };

  const field = (name: string, args: readonly { name: { value: string }; value: ValueNode }[], set: SelectionSetNode | undefined): Measure => {
    if (name === "__schema" || name === "__type") return { depth: 0, cost: 0 };
    if (!set) return { depth: 1, cost: name === "totalCount" ? 1 : 0 };
    if (name === "pageInfo") return { depth: 1 + selectionSet(set).depth, cost: 0 };
    if (!isPage(set)) {
      const inner = selectionSet(set);
      return { depth: 1 + inner.depth, cost: 1 + inner.cost };
    }
    const limit = intArgument(args, "limit", variables) ?? DEFAULT_PAGE_SIZE;
    const offset = intArgument(args, "offset", variables) ?? 0;
    // The page's own children: items (run once per row), totalCount, pageInfo.
    const children = pageChildren(set);
    return { depth: 1 + children.depth, cost: 1 + limit + offset + limit * children.perRow + children.perPage };
  };

  /**
   * What a page's selection costs: `perRow` for what `items` select (run once per row), `perPage`
   * for the rest (totalCount). Memoised per fragment, like selection sets.
   */
  const pageFragmentMeasures = new Map<string, PageMeasure>();
  const pageChildren = (set: SelectionSetNode): PageMeasure => {
    const total: PageMeasure = { depth: 0, perRow: 0, perPage: 0 };
    const add = (part: PageMeasure) => {
      total.depth = Math.max(total.depth, part.depth);
      total.perRow += part.perRow;
      total.perPage += part.perPage;
    };
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD && selection.name.value === "items" && selection.selectionSet) {
        const inner = selectionSet(selection.selectionSet);
        add({ depth: 1 + inner.depth, perRow: inner.cost, perPage: 0 });
      } else if (selection.kind === Kind.FIELD) {
        const child = field(selection.name.value, selection.arguments ?? [], selection.selectionSet);
        add({ depth: child.depth, perRow: 0, perPage: child.cost });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(pageChildren(selection.selectionSet));
      } else {
        const name = selection.name.value;
        let known = pageFragmentMeasures.get(name);
        const definition = fragments.get(name);
        if (!known && definition && !inProgress.has(name)) {
          inProgress.add(name);
          known = pageChildren(definition.selectionSet);
          inProgress.delete(name);
          pageFragmentMeasures.set(name, known);
        }
        if (known) add(known);
      }
    }
    return total;
  };

  /** Ponder's list fields return pages: their selection names `items`, `pageInfo` or `totalCount`. */
  const isPage = (set: SelectionSetNode, seen = new Set<string>()): boolean =>
    set.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return ["items", "pageInfo", "totalCount"].includes(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return isPage(selection.selectionSet, seen);
      const name = selection.name.value;
      const definition = fragments.get(name);
      if (!definition || seen.has(name)) return false;
      seen.add(name);
      return isPage(definition.selectionSet, seen);
    });

  return selectionSet(operation.selectionSet);
}

function literal(value: ValueNode, variables: Variables): unknown {
  switch (value.kind) {
    case Kind.VARIABLE:
      return variables[value.name.value];
    case Kind.INT:
      return Number(value.value);
    case Kind.STRING:
      return value.value;
    default:
      return undefined;
  }
}

function argument(args: readonly { name: { value: string }; value: ValueNode }[], name: string, variables: Variables): unknown {
  const node = args.find((a) => a.name.value === name);
  return node ? literal(node.value, variables) : undefined;
}

/** An integer argument; a malformed one is left for Ponder to reject (counted as absent). */
function intArgument(args: readonly { name: { value: string }; value: ValueNode }[], name: string, variables: Variables): number | undefined {
  const value = argument(args, name, variables);
  return typeof value === "number" && Number.isInteger(value) ? Math.max(0, value) : undefined;
}

/**
 * Whether `cursor` is one Ponder could have written: base64 of superjson `{ json: { column: value,
 * ... }, meta }` holding the page's order column. Ponder itself answers a malformed cursor with a
 * raw JSON-parse error (or a property read on undefined).
 */
export function isCursor(cursor: string, orderBy?: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(cursor)) return false;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64").toString("utf8"));
  } catch {
    return false;
  }
  if (typeof decoded !== "object" || decoded === null) return false;
  const row = (decoded as { json?: unknown }).json;
  if (typeof row !== "object" || row === null || Array.isArray(row) || Object.keys(row).length === 0) return false;
  return orderBy === undefined || orderBy in row;
}

/** The first malformed `after` / `before` cursor in the document, if any. */
function invalidCursor(document: DocumentNode, variables: Variables): { field: string; argument: string } | null {
  const defaults: Variables = {};
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const v of definition.variableDefinitions ?? []) {
      if (v.defaultValue) defaults[v.variable.name.value] = literal(v.defaultValue, {});
    }
  }
  const values = { ...defaults, ...variables };
  const visit = (set: SelectionSetNode | undefined): { field: string; argument: string } | null => {
    if (!set) return null;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) continue; // fragment bodies are visited as definitions
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const found = visit(selection.selectionSet);
        if (found) return found;
        continue;
      }
      const args = selection.arguments ?? [];
      const orderBy = argument(args, "orderBy", values);
      for (const name of ["after", "before"]) {
        const cursor = argument(args, name, values);
        if (typeof cursor === "string" && !isCursor(cursor, typeof orderBy === "string" ? orderBy : undefined)) {
          return { field: selection.alias?.value ?? selection.name.value, argument: name };
        }
      }
      const found = visit(selection.selectionSet);
      if (found) return found;
    }
    return null;
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) {
      const found = visit(definition.selectionSet);
      if (found) return found;
    }
  }
  return null;
}

/** What a GraphQL request asks to run, as GraphQL over HTTP carries it. */
export interface GraphqlParams {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

/**
 * The operations a POST body carries, read the way GraphQL Yoga (inside Ponder) reads them, with
 * the JSON body to hand on to it, so that what runs is exactly what was checked:
 * `application/json` (and `application/graphql+json`) as is, `application/graphql` (the query
 * alone) and `application/x-www-form-urlencoded` converted to JSON. Null for a body that does
 * not parse (Yoga answers with its own error and runs nothing); "unsupported" for any other
 * content type (multipart uploads included, which this API does not take; Ponder answers those
 * with an empty 200).
 */
export function readGraphqlRequest(contentType: string | null, body: string): { params: GraphqlParams[]; json: string } | "unsupported" | null {
  const type = (contentType?.split(",")[0] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json" || type === "application/graphql+json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return null;
    }
    if (typeof parsed !== "object" || parsed === null) return null;
    // Ponder does not enable batching (Yoga refuses arrays), but check every element anyway.
    return { params: Array.isArray(parsed) ? (parsed as GraphqlParams[]) : [parsed as GraphqlParams], json: body };
  }
  if (type === "application/graphql") return { params: [{ query: body }], json: JSON.stringify({ query: body }) };
  if (type === "application/x-www-form-urlencoded") {
    const form = new URLSearchParams(body);
    const jsonField = (name: string) => {
      const value = form.get(name);
      return value ? JSON.parse(value) : undefined;
    };
    try {
      const params: GraphqlParams = {
        query: form.get("query") || undefined,
        operationName: form.get("operationName") || undefined,
        variables: jsonField("variables"),
        extensions: jsonField("extensions"),
      };
      return { params: [params], json: JSON.stringify(params) };
    } catch {
      return null;
    }
  }
  return "unsupported";
}

/**
 * Checks one operation request. Returns the refusal to send, or null to let Ponder answer (which
 * includes documents that do not parse: Ponder reports those errors itself).
 */
export function checkGraphqlParams(request: GraphqlParams, limits: GraphqlLimits): Refusal | null {
  if (typeof request !== "object" || request === null || typeof request.query !== "string") return null;
  let document: DocumentNode;
  try {
    document = parseQuery(request.query);
  } catch {
    return null;
  }
  const variables = typeof request.variables === "object" && request.variables !== null ? (request.variables as Variables) : {};
  const operationName = typeof request.operationName === "string" ? request.operationName : undefined;

  const { depth, cost } = estimate(document, variables, operationName);
  if (depth > limits.maxDepth) {
    return {
      status: 400,
      code: "QUERY_TOO_DEEP",
      message:
        `Query depth ${depth} exceeds the limit of ${limits.maxDepth} nested fields. ` +
        `Nest fewer relations, or fetch the inner records with a separate query by id.`,
    };
  }
  if (cost > limits.maxCost) {
    return {
      status: 400,
      code: "QUERY_TOO_COSTLY",
      message:
        `Query cost ${cost} exceeds the limit of ${limits.maxCost}. Each list reads up to its limit ` +
        `(default ${DEFAULT_PAGE_SIZE}) rows and runs what is nested in its items once per row. ` +
        `Lower the limits, nest fewer lists, and page with cursors.`,
    };
  }
  const cursor = invalidCursor(document, variables);
  if (cursor) {
    return {
      status: 400,
      code: "INVALID_CURSOR",
      message:
        `Invalid cursor in "${cursor.argument}" of ${cursor.field}: pass back pageInfo.endCursor (as after) or ` +
        `pageInfo.startCursor (as before) from a previous page of the same query (same orderBy), unchanged.`,
    };
  }
  return null;
}

/** Checks a POST body of the given content type (JSON by default): the first refusal, or null. */
export function checkGraphqlRequest(body: string, limits: GraphqlLimits, contentType = "application/json"): Refusal | null {
  const request = readGraphqlRequest(contentType, body);
  if (request === null || request === "unsupported") return null;
  for (const params of request.params) {
    const refusal = checkGraphqlParams(params, limits);
    if (refusal) return refusal;
  }
  return null;
}

/**
 * `answer`, or "timeout" once `ms` have passed without it. The late answer is dropped (its
 * rejection too); work it already started runs to its end, which the cost limit bounds.
 */
export async function answerWithin<T>(answer: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    const result = await Promise.race([answer, deadline]);
    if (result === "timeout") answer.catch(() => {});
    return result;
  } finally {
    clearTimeout(timer);
  }
}
