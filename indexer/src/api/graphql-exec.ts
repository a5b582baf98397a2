/**
 * Runs an admitted GraphQL request against Ponder's schema and resolvers without going through
 * Ponder's `graphql()` middleware. Profiling 50 clients of uncached queries (bench/indexer.json
 * went 0.9-1.8 s p99) showed the process CPU-bound and the SQL at ~1 ms: the time went into
 * handling every request three times over. The middleware's GraphQL Yoga is built with
 * `parserAndValidationCache: false`, so each request was parsed and validated again after the
 * limits check had parsed it, lexed once more by graphql-armor's token guard and walked by its
 * depth and alias guards, and passed through a second Request, Hono app and Yoga's envelop.
 *
 * Here the parse and the schema validation of a query text are kept in an LRU (a query text always
 * gives the same document and the same validation errors); the alias guard (at most 30, Ponder's)
 * is counted on that document; the token guard is the parser's own `maxTokens` and the depth guard
 * the limits check's (8, stricter than Ponder's 100). Resolvers and their context (`qb`, a per-request
 * DataLoader cache) are Ponder's own, built the way its middleware builds them.
 */
import { GraphQLError, Kind, execute, parse, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema, type SelectionSetNode } from "graphql";
// Not in the package's exports map; the same functions Ponder's graphql() middleware calls. By file
// path from the repository root's node_modules, where npm workspaces hoist ponder (the pinned version:
// the indexer suites exercise this path).
// @ts-ignore -- plain JS module without declarations
import { buildDataLoaderCache, buildGraphQLSchema } from "../../../node_modules/ponder/dist/esm/graphql/index.js";
import { planDocument, type QueryPlan } from "./graphql-plan";

/** Ponder's token budget (graphql-armor max-tokens in its middleware; also parseQuery's). */
const MAX_TOKENS = 1000;
/** Ponder's alias limit (graphql-armor max-aliases in its middleware). */
const MAX_ALIASES = 30;
const DOCUMENT_CACHE_ENTRIES = Number(process.env.GRAPHQL_DOCUMENT_CACHE ?? 1000);
const MASK_ERRORS = process.env.NODE_ENV === "production";
/** GRAPHQL_PLANS=off: every query through Ponder's resolvers (to compare answers, or to rule the plans out). */
const PLANS = process.env.GRAPHQL_PLANS !== "off";

interface Prepared {
  document?: DocumentNode;
  /** ./graphql-plan's plan, made at the first run (it needs the database); null: not a planned shape. */
  plan?: QueryPlan | null;
  /** Syntax, alias or validation errors: answered without running anything. */
  errors?: readonly GraphQLError[];
}

export interface GraphqlExecutor {
  /**
   * The JSON text of the answer to one request (GraphQL errors included, as Ponder sends them: HTTP
   * 200), and what produced it: a plan (./graphql-plan) or Ponder's resolvers.
   */
  run(params: { query: string; variables?: Record<string, unknown>; operationName?: string }): Promise<{ body: string; by: "plan" | "resolvers" }>;
}

/** `schema`: the ponder:schema module (every table and relation). */
export function createGraphqlExecutor(schema: Record<string, unknown>): GraphqlExecutor {
  const graphqlSchema = buildGraphQLSchema({ schema }) as GraphQLSchema;
  const prepared = new Map<string, Prepared>();

  const prepare = (query: string): Prepared => {
    const hit = prepared.get(query);
    if (hit !== undefined) {
      prepared.delete(query);
      prepared.set(query, hit); // LRU order
      return hit;
    }
    let entry: Prepared;
    try {
      // With locations (unlike the limits check's parse), so errors point into the query.
      const document = parse(query, { maxTokens: MAX_TOKENS });
      const aliases = countAliases(document);
      entry =
        aliases > MAX_ALIASES
          ? { errors: [new GraphQLError(`Syntax Error: Aliases limit of ${MAX_ALIASES} exceeded, found ${aliases}.`)] }
          : validateOrErrors(graphqlSchema, document);
    } catch (error) {
      entry = { errors: [error instanceof GraphQLError ? error : new GraphQLError(String(error))] };
    }
    prepared.set(query, entry);
    if (prepared.size > DOCUMENT_CACHE_ENTRIES) prepared.delete(prepared.keys().next().value!);
    return entry;
  };

  return {
    async run({ query, variables, operationName }) {
      const entry = prepare(query);
      const { document, errors } = entry;
      if (errors !== undefined) return { body: JSON.stringify({ errors: errors.map((e) => e.toJSON()) }), by: "resolvers" };
      const qb = globalThis.PONDER_DATABASE.readonlyQB;
      if (PLANS && entry.plan === undefined) entry.plan = planDocument(document!, graphqlSchema, qb as never) ?? null;
      if (entry.plan && (operationName == null || operationName === operationNameOf(document!))) {
        try {
          return { body: await entry.plan.run(), by: "plan" };
        } catch {
          // A database error: Ponder's resolvers run it again and answer with its error, as they would have.
        }
      }
      const result = (await execute({
        schema: graphqlSchema,
        document: document!,
        variableValues: variables,
        operationName,
        contextValue: { qb, getDataLoader: buildDataLoaderCache(qb) },
      })) as ExecutionResult;
      const body = result.errors === undefined ? JSON.stringify({ data: result.data }) : JSON.stringify({ errors: result.errors.map(formatError), data: result.data });
      return { body, by: "resolvers" };
    },
  };
}

function operationNameOf(document: DocumentNode): string | undefined {
  const operation = document.definitions[0];
  return operation?.kind === Kind.OPERATION_DEFINITION ? operation.name?.value : undefined;
}

function validateOrErrors(schema: GraphQLSchema, document: DocumentNode): Prepared {
  const errors = validate(schema, document);
  return errors.length > 0 ? { errors } : { document };
}

/** Like Yoga with maskedErrors in production: messages of unexpected (non-GraphQL) errors are hidden. */
function formatError(error: GraphQLError) {
  if (MASK_ERRORS && error.originalError !== undefined && !(error.originalError instanceof GraphQLError)) {
    return { message: "Unexpected error.", locations: error.locations, path: error.path };
  }
  return error.toJSON();
}

/** Aliased fields in the document's operations and fragments (what graphql-armor max-aliases counts). */
function countAliases(document: DocumentNode): number {
  let n = 0;
  const walk = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD && selection.alias !== undefined) n++;
      if (selection.kind !== Kind.FRAGMENT_SPREAD) walk(selection.selectionSet);
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet);
  }
  return n;
}

declare global {
  // Set by Ponder for its API (what its graphql() middleware reads).
  // eslint-disable-next-line no-var
  var PONDER_DATABASE: { readonlyQB: unknown };
}
