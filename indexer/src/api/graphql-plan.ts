/**
 * Plans for the GraphQL queries third parties send most: top-level table lists and single rows
 * with literal arguments, asking for columns, `totalCount` and `pageInfo`. Such a query is turned
 * once (per query text, next to its parsed document in ./graphql-exec) into one SQL statement per
 * list or row that selects only the asked columns, plus Ponder's count statement when `totalCount`
 * is asked, and its answer is written straight from the rows.
 *
 * Why: at 50 clients an uncached list query spent its time in Ponder's resolvers around ~1 ms of SQL
 * (every column of every row read, mapped and walked by graphql-js field by field; bench/indexer.json).
 *
 * The answer must be byte for byte Ponder's: the same rows (Ponder's where operators, its orderBy
 * with the primary key appended, limit + 1 for hasNextPage), the same scalars (BigInt as strings),
 * the same cursors (superjson of the orderBy columns, base64). Anything else (relations, cursors
 * given as `after`/`before`, offsets, variables, fragments, directives, `__typename`, `_meta`) is
 * not planned and runs through Ponder's resolvers. test/indexer/postgres.test.ts compares both
 * executors' answers for every documented query and a set of edge cases.
 */
import {
  Kind,
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  valueFromAST,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";
import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  gte,
  ilike,
  inArray,
  isNotNull,
  isNull,
  like,
  lt,
  lte,
  ne,
  not,
  notIlike,
  notInArray,
  notLike,
  or,
  sql,
} from "ponder";
import { createHash } from "node:crypto";
import superjson from "superjson";

/** Ponder's page sizes (ponder/dist/esm/graphql: DEFAULT_LIMIT, MAX_LIMIT). */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** Scalars whose value goes out as it comes from the row (BigInt and Numeric go out as strings). */
const PLAIN_SCALARS = new Set(["String", "ID", "Int", "Float", "Boolean", "JSON"]);
const STRING_SCALARS = new Set(["BigInt", "Numeric"]);
type SQL = ReturnType<typeof eq>;
/** The window count's key among a row's columns (no GraphQL field can be named so). */
const TOTAL = "__total";

/** What drizzle's db exposes about a table (db._.schema[tsName]). */
interface TableConfig {
  tsName: string;
  columns: Record<string, unknown>;
  primaryKey: { name: string }[];
}
interface ReadonlyQB {
  raw: {
    _: { schema: Record<string, TableConfig>; fullSchema: Record<string, unknown> };
    select(fields?: Record<string, unknown>): any;
  };
}

interface OutputField {
  key: string;
  column: string;
  /** BigInt/Numeric: String(value), as Ponder's scalars serialize. */
  asString: boolean;
}
interface PageField {
  key: string;
  part: "totalCount" | "items" | "pageInfo";
  items?: OutputField[];
  pageInfo?: { key: string; name: "hasNextPage" | "hasPreviousPage" | "startCursor" | "endCursor" }[];
}
type FieldPlan =
  | { key: string; kind: "row"; tsName: string; where: Record<string, unknown>; fields: OutputField[] }
  | { key: string; kind: "page"; tsName: string; where: unknown; orderBy?: string; orderDirection?: string; limit: number; fields: PageField[] };

/** A statement built once: drizzle's prepared query (its SQL text and row mapping kept), unnamed. */
interface Statement {
  execute(): Promise<Record<string, unknown>[]>;
}
type Step = () => Promise<unknown>;

export interface QueryPlan {
  /** The JSON text Ponder's executor would answer. Throws what the database throws. */
  run(): Promise<string>;
}

/**
 * The plan of a validated document, or undefined when any part of it is not a planned shape (then
 * Ponder's resolvers answer it). Argument literals are coerced by graphql-js as execute would.
 */
export function planDocument(document: DocumentNode, schema: GraphQLSchema, qb: ReadonlyQB): QueryPlan | undefined {
  const fields = planFields(document, schema);
  if (fields === undefined) return undefined;
  const steps: Step[] = [];
  for (const field of fields) {
    let step: Step | undefined;
    try {
      step = field.kind === "row" ? compileRow(field, qb) : compilePage(field, qb);
    } catch {
      step = undefined; // what Ponder's resolvers would refuse: they answer it, with their error
    }
    if (step === undefined) return undefined;
    steps.push(step);
  }
  return {
    async run() {
      const values = await Promise.all(steps.map((step) => step()));
      const data: Record<string, unknown> = {};
      fields.forEach((field, i) => (data[field.key] = values[i]));
      return JSON.stringify({ data });
    },
  };
}

function planFields(document: DocumentNode, schema: GraphQLSchema): FieldPlan[] | undefined {
  if (document.definitions.length !== 1) return undefined;
  const operation = document.definitions[0]!;
  if (operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== "query") return undefined;
  if ((operation.variableDefinitions?.length ?? 0) > 0 || (operation.directives?.length ?? 0) > 0) return undefined;
  const queryType = schema.getQueryType()!;
  const fields: FieldPlan[] = [];
  const keys = new Set<string>();
  for (const node of plainFields(operation.selectionSet) ?? []) {
    if (node === undefined) return undefined;
    const key = node.alias?.value ?? node.name.value;
    if (keys.has(key)) return undefined; // graphql-js merges repeated keys; not planned
    keys.add(key);
    const def = queryType.getFields()[node.name.value];
    if (def === undefined || node.name.value === "_meta") return undefined;
    const args = argumentValues(def, node.arguments ?? []);
    if (args === undefined) return undefined;
    const type = getNamedType(def.type);
    if (!isObjectType(type)) return undefined;
    if (type.name.endsWith("Page")) {
      if (args.after != null || args.before != null || args.offset != null) return undefined;
      const limit = (args.limit as number | undefined) ?? DEFAULT_LIMIT;
      if (limit > MAX_LIMIT || limit < 0) return undefined; // Ponder's error, from its resolver
      const items = type.getFields().items;
      const pageFields = planPage(node.selectionSet, items ? getNamedType(items.type) : undefined);
      if (pageFields === undefined) return undefined;
      fields.push({ key, kind: "page", tsName: type.name.slice(0, -"Page".length), where: args.where, orderBy: args.orderBy as string | undefined, orderDirection: args.orderDirection as string | undefined, limit, fields: pageFields });
    } else {
      const rowFields = planColumns(node.selectionSet, type);
      if (rowFields === undefined) return undefined;
      fields.push({ key, kind: "row", tsName: type.name, where: args, fields: rowFields });
    }
  }
  return fields.length > 0 ? fields : undefined;
}

function compileRow(field: Extract<FieldPlan, { kind: "row" }>, qb: ReadonlyQB): Step | undefined {
  const table = tableOf(qb, field.tsName);
  if (table === undefined) return undefined;
  const conditions = Object.entries(field.where).map(([column, value]) => eq(table.columns[column] as never, value));
  const statement = prepare(qb.raw.select(selection(table, field.fields.map((f) => f.column))).from(table.table).where(and(...conditions)).limit(1));
  return async () => {
    const rows = await statement.execute();
    return rows[0] === undefined ? null : output(rows[0], field.fields);
  };
}

function compilePage(field: Extract<FieldPlan, { kind: "page" }>, qb: ReadonlyQB): Step | undefined {
  const table = tableOf(qb, field.tsName);
  if (table === undefined) return undefined;
  const conditions = whereConditions(field.where as Record<string, unknown> | undefined, table.columns);
  if (conditions === undefined) return undefined;
  const where = and(...conditions);
  // Ponder's buildOrderBySchema: the asked column, then every primary key column not already in it,
  // all in the asked direction ("asc" unless asked; anything but "asc" sorts descending).
  const direction = field.orderDirection ?? "asc";
  const orderColumns = [...(field.orderBy !== undefined ? [field.orderBy] : []), ...table.primaryKey.filter((c) => c !== field.orderBy)];
  if (orderColumns.some((c) => table.columns[c] === undefined)) return undefined; // Ponder's error
  const orderBy = orderColumns.map((c) => (direction === "asc" ? asc(table.columns[c] as never) : desc(table.columns[c] as never)));
  const wantsItems = field.fields.some((f) => f.part === "items");
  const wantsPageInfo = field.fields.some((f) => f.part === "pageInfo");
  const wantsTotal = field.fields.some((f) => f.part === "totalCount");
  const itemColumns = field.fields.flatMap((f) => f.items?.map((i) => i.column) ?? []);
  // With rows asked for, the count comes with them (a window over every match, computed before the
  // limit): one statement instead of two. A page with no rows has no match, so its count is 0.
  const withRows = wantsItems || wantsPageInfo;
  const columns = selection(table, [...itemColumns, ...(wantsPageInfo ? orderColumns : [])]);
  const rowsStatement = withRows
    ? prepare(qb.raw.select(wantsTotal ? { ...columns, [TOTAL]: sql`count(*) over ()`.mapWith(Number) } : columns).from(table.table).where(where).orderBy(...orderBy).limit(field.limit + 1))
    : undefined;
  const countStatement = wantsTotal && !withRows ? prepare(qb.raw.select({ count: count() }).from(table.table).where(where)) : undefined;
  const cursor = (row: Record<string, unknown> | undefined) =>
    row === undefined ? null : Buffer.from(superjson.stringify(Object.fromEntries(orderColumns.map((c) => [c, row[c]])))).toString("base64");
  return async () => {
    const [rows, counted] = await Promise.all([rowsStatement?.execute() ?? [], countStatement?.execute()]);
    const total = countStatement ? (counted?.[0]?.count ?? null) : ((rows[0]?.[TOTAL] as number | undefined) ?? 0); // before the pop below
    const hasNextPage = rows.length === field.limit + 1;
    if (hasNextPage) rows.pop();
    const page: Record<string, unknown> = {};
    for (const part of field.fields) {
      if (part.part === "totalCount") page[part.key] = total;
      else if (part.part === "items") page[part.key] = rows.map((row) => output(row, part.items!));
      else {
        const info: Record<string, unknown> = {};
        for (const p of part.pageInfo!) {
          info[p.key] = p.name === "hasNextPage" ? hasNextPage : p.name === "hasPreviousPage" ? false : cursor(p.name === "startCursor" ? rows[0] : rows.at(-1));
        }
        page[part.key] = info;
      }
    }
    return page;
  };
}

/**
 * Named (by its SQL text) for the first NAMED_STATEMENTS texts, so each pooled connection parses and
 * plans it once and Postgres can keep a generic plan (planning was as long as running for these
 * statements); unnamed after that, so no client can make the server keep a statement per query it
 * invents. On PGlite the name is ignored.
 */
function prepare(query: { prepare(name: string): Statement; toSQL(): { sql: string } }): Statement {
  const text = query.toSQL().sql;
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < NAMED_STATEMENTS) {
    name = `sv_gql_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return query.prepare(name as string);
}
const NAMED_STATEMENTS = Number(process.env.GRAPHQL_NAMED_STATEMENTS ?? 256);
const statementNames = new Map<string, string>();

function output(row: Record<string, unknown>, fields: OutputField[]) {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const value = row[f.column];
    out[f.key] = value === null || value === undefined ? null : f.asString ? String(value) : value;
  }
  return out;
}

function tableOf(qb: ReadonlyQB, tsName: string) {
  const config = qb.raw._.schema[tsName];
  const table = qb.raw._.fullSchema[tsName];
  if (config === undefined || table === undefined) return undefined; // a view: not planned
  return { table, columns: config.columns, primaryKey: config.primaryKey.map((column) => Object.entries(config.columns).find(([, c]) => (c as { name: string }).name === column.name)![0]) };
}

function selection(table: { columns: Record<string, unknown> }, columns: string[]) {
  return Object.fromEntries([...new Set(columns)].map((c) => [c, table.columns[c]]));
}

/** The selections of a set when each is a plain field (no fragments, no directives, no __typename). */
function plainFields(set: SelectionSetNode | undefined): (FieldNode | undefined)[] | undefined {
  if (set === undefined) return undefined;
  return set.selections.map((s) => (s.kind === Kind.FIELD && (s.directives?.length ?? 0) === 0 && !s.name.value.startsWith("__") ? s : undefined));
}

function planPage(set: SelectionSetNode | undefined, entity: unknown): PageField[] | undefined {
  const nodes = plainFields(set);
  if (nodes === undefined || !isObjectType(entity)) return undefined;
  const out: PageField[] = [];
  const keys = new Set<string>();
  for (const node of nodes) {
    if (node === undefined || (node.arguments?.length ?? 0) > 0) return undefined;
    const key = node.alias?.value ?? node.name.value;
    if (keys.has(key)) return undefined;
    keys.add(key);
    const name = node.name.value;
    if (name === "totalCount") out.push({ key, part: "totalCount" });
    else if (name === "items") {
      const items = planColumns(node.selectionSet, entity);
      if (items === undefined) return undefined;
      out.push({ key, part: "items", items });
    } else if (name === "pageInfo") {
      const info: NonNullable<PageField["pageInfo"]> = [];
      const infoKeys = new Set<string>();
      for (const sub of plainFields(node.selectionSet) ?? [undefined]) {
        if (sub === undefined || (sub.arguments?.length ?? 0) > 0) return undefined;
        const subKey = sub.alias?.value ?? sub.name.value;
        if (infoKeys.has(subKey) || !["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"].includes(sub.name.value)) return undefined;
        infoKeys.add(subKey);
        info.push({ key: subKey, name: sub.name.value as "hasNextPage" });
      }
      out.push({ key, part: "pageInfo", pageInfo: info });
    } else return undefined;
  }
  return out;
}

/** Scalar column fields of an entity type; undefined for relations, lists or anything else. */
function planColumns(set: SelectionSetNode | undefined, entity: unknown): OutputField[] | undefined {
  const nodes = plainFields(set);
  if (nodes === undefined || !isObjectType(entity)) return undefined;
  const out: OutputField[] = [];
  const keys = new Set<string>();
  for (const node of nodes) {
    if (node === undefined || (node.arguments?.length ?? 0) > 0) return undefined;
    const key = node.alias?.value ?? node.name.value;
    if (keys.has(key)) return undefined;
    keys.add(key);
    const def = entity.getFields()[node.name.value];
    if (def === undefined) return undefined;
    const type = isNonNullType(def.type) ? def.type.ofType : def.type;
    if (isListType(type)) return undefined;
    if (isScalarType(type) && PLAIN_SCALARS.has(type.name)) out.push({ key, column: node.name.value, asString: false });
    else if (isScalarType(type) && STRING_SCALARS.has(type.name)) out.push({ key, column: node.name.value, asString: true });
    else if (isEnumType(type)) out.push({ key, column: node.name.value, asString: false });
    else return undefined; // a relation
  }
  return out;
}

/** Literal arguments coerced as graphql-js's execute coerces them (custom scalars' parseLiteral). */
function argumentValues(def: GraphQLField<unknown, unknown>, nodes: readonly ArgumentNode[]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const node of nodes) {
    const arg = def.args.find((a) => a.name === node.name.value);
    if (arg === undefined) return undefined;
    let value: unknown;
    try {
      value = valueFromAST(node.value, arg.type);
    } catch {
      return undefined; // a scalar's parseLiteral threw: Ponder's path reports it
    }
    if (value === undefined) return undefined;
    out[node.name.value] = value;
  }
  for (const arg of def.args) if (isNonNullType(arg.type) && out[arg.name] === undefined) return undefined;
  return out;
}

/**
 * Ponder's where filters (ponder/dist/esm/graphql buildWhereConditions): `column` and its suffixes,
 * the longest suffix that the key ends with first (so `_not_in` is not read as `_in`). Filters on
 * array columns (their `has` forms, and equality as containment) are not planned.
 */
const OPERATORS: Record<string, (column: any, value: any) => SQL> = {
  "": (c, v) => (v === null ? isNull(c) : eq(c, v)),
  _not: (c, v) => (v === null ? isNotNull(c) : ne(c, v)),
  _in: (c, v) => inArray(c, v),
  _not_in: (c, v) => notInArray(c, v),
  _gt: (c, v) => gt(c, v),
  _lt: (c, v) => lt(c, v),
  _gte: (c, v) => gte(c, v),
  _lte: (c, v) => lte(c, v),
  _contains: (c, v) => like(c, `%${v}%`),
  _not_contains: (c, v) => notLike(c, `%${v}%`),
  _starts_with: (c, v) => like(c, `${v}%`),
  _ends_with: (c, v) => like(c, `%${v}`),
  _not_starts_with: (c, v) => notLike(c, `${v}%`),
  _not_ends_with: (c, v) => notLike(c, `%${v}`),
  _contains_nocase: (c, v) => ilike(c, `%${v}%`),
  _not_contains_nocase: (c, v) => notIlike(c, `%${v}%`),
  _starts_with_nocase: (c, v) => ilike(c, `${v}%`),
  _ends_with_nocase: (c, v) => ilike(c, `%${v}`),
  _not_starts_with_nocase: (c, v) => notIlike(c, `${v}%`),
  _not_ends_with_nocase: (c, v) => notIlike(c, `%${v}`),
};
const SUFFIXES = [...Object.keys(OPERATORS), "_has", "_not_has"].sort((a, b) => b.length - a.length);

function whereConditions(where: Record<string, unknown> | undefined, columns: Record<string, unknown>): SQL[] | undefined {
  const conditions: SQL[] = [];
  if (where == null) return conditions;
  for (const [key, value] of Object.entries(where)) {
    if (key === "AND" || key === "OR") {
      if (!Array.isArray(value)) return undefined;
      const nested: SQL[] = [];
      for (const sub of value as Record<string, unknown>[]) {
        const inner = whereConditions(sub, columns);
        if (inner === undefined) return undefined;
        nested.push(...inner);
      }
      if (nested.length > 0) conditions.push((key === "AND" ? and(...nested) : or(...nested))!);
      continue;
    }
    const suffix = SUFFIXES.find((s) => key.endsWith(s))!;
    const column = columns[key.slice(0, key.length - suffix.length)] as { columnType?: string } | undefined;
    const operator = OPERATORS[suffix];
    if (column === undefined || operator === undefined || column.columnType === "PgArray") return undefined;
    conditions.push(operator(column, value));
  }
  return conditions;
}
