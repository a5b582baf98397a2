/**
 * Plans for the GraphQL queries third parties send most: table lists and single rows with literal
 * arguments, asking for columns, `totalCount`, `pageInfo` and relations. Such a query is turned once
 * (per query text, next to its parsed document in ./graphql-exec) into one SQL statement per list or
 * row that selects only the asked columns (`totalCount` as a window count in the same statement), and
 * its answer is written straight from the rows. A `one` relation is read for all rows at once, a
 * `many` relation is a page per row, as Ponder reads them.
 *
 * Why: at 50 clients an uncached list query spent its time in Ponder's resolvers around ~1 ms of SQL
 * (every column of every row read, mapped and walked by graphql-js field by field; bench/indexer.json).
 *
 * The answer must be byte for byte Ponder's: the same rows (Ponder's where operators, its orderBy
 * with the primary key appended, limit + 1 for hasNextPage), the same scalars (BigInt as strings),
 * the same cursors (superjson of the orderBy columns, base64). Anything else (cursors given as
 * `after`/`before`, offsets, variables, fragments, directives, `__typename`, `_meta`, views, array
 * filters, composite relation keys) is not planned and runs through Ponder's resolvers.
 * test/indexer/postgres.test.ts compares both executors' answers for every documented query and a
 * set of edge cases.
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
  dbName: string;
  columns: Record<string, unknown>;
  primaryKey: { name: string }[];
  relations?: Record<string, RelationConfig>;
}
/** A drizzle relation (One or Many) as the relational config holds it. */
interface RelationConfig {
  referencedTableName: string;
  relationName?: string;
  config?: { fields: { name: string }[]; references: { name: string }[] };
}
interface ReadonlyQB {
  raw: {
    _: { schema: Record<string, TableConfig>; fullSchema: Record<string, unknown> };
    select(fields?: Record<string, unknown>): any;
  };
}

/** A field of an entity: a column, a `one` relation (a row or null) or a `many` relation (a page). */
type EntityField =
  | { key: string; kind: "column"; column: string; /** BigInt/Numeric: String(value), as Ponder's scalars serialize. */ asString: boolean }
  | { key: string; kind: "one"; relation: string; fields: EntityField[] }
  | { key: string; kind: "many"; relation: string; page: PagePlan };
interface PageField {
  key: string;
  part: "totalCount" | "items" | "pageInfo";
  items?: EntityField[];
  pageInfo?: { key: string; name: "hasNextPage" | "hasPreviousPage" | "startCursor" | "endCursor" }[];
}
interface PagePlan {
  where: unknown;
  orderBy?: string;
  orderDirection?: string;
  limit: number;
  fields: PageField[];
}
type FieldPlan =
  | { key: string; kind: "row"; tsName: string; where: Record<string, unknown>; fields: EntityField[] }
  | { key: string; kind: "page"; tsName: string; page: PagePlan };

type Row = Record<string, unknown>;
/** A statement built once: drizzle's prepared query (its SQL text and row mapping kept). */
interface Statement {
  execute(values?: Record<string, unknown>): Promise<Row[]>;
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
      step = field.kind === "row" ? compileRow(field, qb) : compileTopPage(field, qb);
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
  const selected = keyedFields(operation.selectionSet);
  if (selected === undefined) return undefined;
  for (const [key, node] of selected) {
    const def = queryType.getFields()[node.name.value];
    if (def === undefined || node.name.value === "_meta") return undefined;
    const type = getNamedType(def.type);
    if (!isObjectType(type)) return undefined;
    if (type.name.endsWith("Page")) {
      const page = planPage(def, node);
      if (page === undefined) return undefined;
      fields.push({ key, kind: "page", tsName: type.name.slice(0, -"Page".length), page });
    } else {
      const args = argumentValues(def, node.arguments ?? []);
      const rowFields = planEntity(node.selectionSet, type);
      if (args === undefined || rowFields === undefined) return undefined;
      fields.push({ key, kind: "row", tsName: type.name, where: args, fields: rowFields });
    }
  }
  return fields.length > 0 ? fields : undefined;
}

/** A list field (top level or a `many` relation): its arguments and its page's parts. */
function planPage(def: GraphQLField<unknown, unknown>, node: FieldNode): PagePlan | undefined {
  const args = argumentValues(def, node.arguments ?? []);
  if (args === undefined || args.after != null || args.before != null || args.offset != null) return undefined;
  const limit = (args.limit as number | undefined) ?? DEFAULT_LIMIT;
  if (limit > MAX_LIMIT || limit < 0) return undefined; // Ponder's error, from its resolver
  const pageType = getNamedType(def.type);
  const items = isObjectType(pageType) ? pageType.getFields().items : undefined;
  const fields = planPageParts(node.selectionSet, items ? getNamedType(items.type) : undefined);
  if (fields === undefined) return undefined;
  return { where: args.where, orderBy: args.orderBy as string | undefined, orderDirection: args.orderDirection as string | undefined, limit, fields };
}

function compileRow(field: Extract<FieldPlan, { kind: "row" }>, qb: ReadonlyQB): Step | undefined {
  const table = tableOf(qb, field.tsName);
  const entity = table && compileEntity(qb, table, field.fields);
  if (table === undefined || entity === undefined) return undefined;
  const conditions = Object.entries(field.where).map(([column, value]) => eq(table.columns[column] as never, value));
  const statement = prepare(qb.raw.select(selection(table, entity.columns)).from(table.table).where(and(...conditions)).limit(1));
  return async () => {
    const rows = await statement.execute();
    return rows[0] === undefined ? null : (await entity.build(rows))[0];
  };
}

function compileTopPage(field: Extract<FieldPlan, { kind: "page" }>, qb: ReadonlyQB): Step | undefined {
  const table = tableOf(qb, field.tsName);
  const page = table && compilePage(qb, table, field.page, []);
  return page && (() => page({}));
}

/**
 * A page of `table`: Ponder's executePluralQuery without cursors or offsets. `parentKeys` are the
 * relation's columns of a `many` page, compared with placeholders (p0, p1, ...) the parent's values fill.
 */
function compilePage(qb: ReadonlyQB, table: TableInfo, plan: PagePlan, parentKeys: string[]): ((values: Row) => Promise<Row>) | undefined {
  const conditions = whereConditions(plan.where as Record<string, unknown> | undefined, table.columns);
  if (conditions === undefined || parentKeys.some((c) => table.columns[c] === undefined)) return undefined;
  const where = and(...conditions, ...parentKeys.map((c, i) => eq(table.columns[c] as never, sql.placeholder(`p${i}`) as never)));
  // Ponder's buildOrderBySchema: the asked column, then every primary key column not already in it,
  // all in the asked direction ("asc" unless asked; anything but "asc" sorts descending).
  const direction = plan.orderDirection ?? "asc";
  const orderColumns = [...(plan.orderBy !== undefined ? [plan.orderBy] : []), ...table.primaryKey.filter((c) => c !== plan.orderBy)];
  if (orderColumns.some((c) => table.columns[c] === undefined)) return undefined; // Ponder's error
  const orderBy = orderColumns.map((c) => (direction === "asc" ? asc(table.columns[c] as never) : desc(table.columns[c] as never)));
  const itemsPart = plan.fields.find((f) => f.part === "items");
  const items = itemsPart ? compileEntity(qb, table, itemsPart.items!) : undefined;
  if (itemsPart && items === undefined) return undefined;
  const wantsPageInfo = plan.fields.some((f) => f.part === "pageInfo");
  const wantsTotal = plan.fields.some((f) => f.part === "totalCount");
  // With rows asked for, the count comes with them (a window over every match, computed before the
  // limit): one statement instead of two. A page with no rows has no match, so its count is 0.
  const withRows = items !== undefined || wantsPageInfo;
  const columns = selection(table, [...(items?.columns ?? []), ...(wantsPageInfo ? orderColumns : [])]);
  const rowsStatement = withRows
    ? prepare(qb.raw.select(wantsTotal ? { ...columns, [TOTAL]: sql`count(*) over ()`.mapWith(Number) } : columns).from(table.table).where(where).orderBy(...orderBy).limit(plan.limit + 1))
    : undefined;
  const countStatement = wantsTotal && !withRows ? prepare(qb.raw.select({ count: count() }).from(table.table).where(where)) : undefined;
  const cursor = (row: Row | undefined) =>
    row === undefined ? null : Buffer.from(superjson.stringify(Object.fromEntries(orderColumns.map((c) => [c, row[c]])))).toString("base64");
  return async (values) => {
    const [rows, counted] = await Promise.all([rowsStatement?.execute(values) ?? [], countStatement?.execute(values)]);
    const total = countStatement ? (counted?.[0]?.count ?? null) : ((rows[0]?.[TOTAL] as number | undefined) ?? 0); // before the pop below
    const hasNextPage = rows.length === plan.limit + 1;
    if (hasNextPage) rows.pop();
    const built = items ? await items.build(rows) : [];
    const page: Row = {};
    for (const part of plan.fields) {
      if (part.part === "totalCount") page[part.key] = total;
      else if (part.part === "items") page[part.key] = built;
      else {
        const info: Row = {};
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
 * The asked fields of rows of `table`: `columns` the rows must carry (asked ones and the keys its
 * relations follow), and `build`, the answers for rows read with them. A `one` relation is read for
 * all the rows at once (`= any(keys)`, as Ponder's DataLoader batches it); a `many` relation is a
 * page per row, as Ponder's resolvers read it.
 */
function compileEntity(qb: ReadonlyQB, table: TableInfo, fields: EntityField[]): { columns: string[]; build(rows: Row[]): Promise<Row[]> } | undefined {
  const columns: string[] = [];
  const parts: ((rows: Row[]) => Promise<unknown[]>)[] = [];
  for (const field of fields) {
    if (field.kind === "column") {
      if (table.columns[field.column] === undefined) return undefined;
      columns.push(field.column);
      const { column, asString } = field;
      parts.push(async (rows) => rows.map((row) => (row[column] == null ? null : asString ? String(row[column]) : row[column])));
      continue;
    }
    const relation = table.relations[field.relation];
    if (relation === undefined) return undefined;
    if (field.kind === "one") {
      if (kindOf(relation) !== "One") return undefined;
      const target = tableByDbName(qb, relation.referencedTableName);
      const [from, to] = [relation.config?.fields ?? [], relation.config?.references ?? []];
      if (target === undefined || from.length !== 1 || to.length !== 1) return undefined; // composite keys: not planned
      const parentColumn = tsNameOf(table, from[0]!);
      const targetColumn = tsNameOf(target, to[0]!);
      const child = compileEntity(qb, target, field.fields);
      if (parentColumn === undefined || targetColumn === undefined || child === undefined) return undefined;
      columns.push(parentColumn);
      const statement = prepare(
        qb.raw
          .select(selection(target, [...child.columns, targetColumn]))
          .from(target.table)
          .where(sql`${target.columns[targetColumn]} = any(${sql.placeholder("keys")})`),
      );
      parts.push(async (rows) => {
        const keys = [...new Set(rows.map((row) => row[parentColumn]).filter((k) => k != null))];
        if (keys.length === 0) return rows.map(() => null);
        const found = await statement.execute({ keys: keys.map(driverValue) });
        const built = await child.build(found);
        const byKey = new Map(found.map((row, i) => [row[targetColumn], built[i]]));
        return rows.map((row) => byKey.get(row[parentColumn]) ?? null);
      });
    } else {
      if (kindOf(relation) !== "Many") return undefined;
      const target = tableByDbName(qb, relation.referencedTableName);
      // Ponder's pairing: the `one` relation of the target named like this one, else its first `one` back to this table.
      const back = target && (Object.values(target.relations).find((r) => relation.relationName !== undefined && kindOf(r) === "One" && r.relationName === relation.relationName) ?? Object.values(target.relations).find((r) => kindOf(r) === "One" && r.referencedTableName === table.dbName));
      const [from, to] = [back?.config?.fields ?? [], back?.config?.references ?? []];
      if (target === undefined || back === undefined || from.length === 0 || from.length !== to.length) return undefined;
      const childKeys = from.map((c) => tsNameOf(target, c));
      const parentKeys = to.map((c) => tsNameOf(table, c));
      if (childKeys.includes(undefined) || parentKeys.includes(undefined)) return undefined;
      const page = compilePage(qb, target, field.page, childKeys as string[]);
      if (page === undefined) return undefined;
      columns.push(...(parentKeys as string[]));
      parts.push((rows) => Promise.all(rows.map((row) => page(Object.fromEntries(parentKeys.map((c, i) => [`p${i}`, driverValue(row[c!])]))))));
    }
  }
  return {
    columns,
    async build(rows) {
      const values = await Promise.all(parts.map((part) => part(rows)));
      return rows.map((_, r) => {
        const out: Row = {};
        fields.forEach((field, f) => (out[field.key] = values[f]![r]));
        return out;
      });
    },
  };
}

/** Placeholders skip drizzle's column mapping: give the driver what the column mapping would. */
const driverValue = (value: unknown) => (typeof value === "bigint" ? value.toString() : value);

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

interface TableInfo {
  tsName: string;
  dbName: string;
  table: unknown;
  columns: Record<string, unknown>;
  primaryKey: string[];
  relations: Record<string, RelationConfig>;
}

function tableOf(qb: ReadonlyQB, tsName: string): TableInfo | undefined {
  const config = qb.raw._.schema[tsName];
  const table = qb.raw._.fullSchema[tsName];
  if (config === undefined || table === undefined) return undefined; // a view: not planned
  const info = { tsName, dbName: config.dbName, table, columns: config.columns, primaryKey: [] as string[], relations: config.relations ?? {} };
  info.primaryKey = config.primaryKey.map((column) => tsNameOf(info, column)!);
  return info;
}

function tableByDbName(qb: ReadonlyQB, dbName: string): TableInfo | undefined {
  const config = Object.values(qb.raw._.schema).find((t) => t.dbName === dbName);
  return config && tableOf(qb, config.tsName);
}

/** A column's key in its table (Ponder's getColumnTsName: by the column's database name). */
function tsNameOf(table: { columns: Record<string, unknown> }, column: { name: string }): string | undefined {
  return Object.entries(table.columns).find(([, c]) => (c as { name: string }).name === column.name)?.[0];
}

/** drizzle's class of a relation ("One" or "Many"), by its entity kind. */
function kindOf(relation: RelationConfig): string | undefined {
  return (relation.constructor as unknown as Record<symbol, string>)[Symbol.for("drizzle:entityKind")];
}

function selection(table: { columns: Record<string, unknown> }, columns: string[]) {
  return Object.fromEntries([...new Set(columns)].map((c) => [c, table.columns[c]]));
}

/**
 * The selections of a set with their response keys, when each is a plain field (no fragments,
 * directives or __typename) under a key of its own (graphql-js merges repeated keys: not planned).
 */
function keyedFields(set: SelectionSetNode | undefined): [string, FieldNode][] | undefined {
  if (set === undefined) return undefined;
  const out: [string, FieldNode][] = [];
  const keys = new Set<string>();
  for (const s of set.selections) {
    if (s.kind !== Kind.FIELD || (s.directives?.length ?? 0) > 0 || s.name.value.startsWith("__")) return undefined;
    const key = s.alias?.value ?? s.name.value;
    if (keys.has(key)) return undefined;
    keys.add(key);
    out.push([key, s]);
  }
  return out;
}

function planPageParts(set: SelectionSetNode | undefined, entity: unknown): PageField[] | undefined {
  const nodes = keyedFields(set);
  if (nodes === undefined || !isObjectType(entity)) return undefined;
  const out: PageField[] = [];
  for (const [key, node] of nodes) {
    if ((node.arguments?.length ?? 0) > 0) return undefined;
    const name = node.name.value;
    if (name === "totalCount") out.push({ key, part: "totalCount" });
    else if (name === "items") {
      if (out.some((p) => p.part === "items")) return undefined;
      const items = planEntity(node.selectionSet, entity);
      if (items === undefined) return undefined;
      out.push({ key, part: "items", items });
    } else if (name === "pageInfo") {
      const info: NonNullable<PageField["pageInfo"]> = [];
      const subs = keyedFields(node.selectionSet);
      if (subs === undefined) return undefined;
      for (const [subKey, sub] of subs) {
        if ((sub.arguments?.length ?? 0) > 0 || !["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"].includes(sub.name.value)) return undefined;
        info.push({ key: subKey, name: sub.name.value as "hasNextPage" });
      }
      out.push({ key, part: "pageInfo", pageInfo: info });
    } else return undefined;
  }
  return out;
}

/** An entity's asked fields: columns (scalars and enums) and relations; undefined for anything else. */
function planEntity(set: SelectionSetNode | undefined, entity: unknown): EntityField[] | undefined {
  const nodes = keyedFields(set);
  if (nodes === undefined || !isObjectType(entity)) return undefined;
  const out: EntityField[] = [];
  for (const [key, node] of nodes) {
    const def = entity.getFields()[node.name.value];
    if (def === undefined) return undefined;
    const type = isNonNullType(def.type) ? def.type.ofType : def.type;
    if (isListType(type)) return undefined;
    if (isObjectType(type)) {
      if (type.name.endsWith("Page")) {
        const page = planPage(def, node);
        if (page === undefined) return undefined;
        out.push({ key, kind: "many", relation: node.name.value, page });
      } else {
        const fields = (node.arguments?.length ?? 0) === 0 ? planEntity(node.selectionSet, type) : undefined;
        if (fields === undefined) return undefined;
        out.push({ key, kind: "one", relation: node.name.value, fields });
      }
      continue;
    }
    if ((node.arguments?.length ?? 0) > 0) return undefined;
    if (isScalarType(type) && PLAIN_SCALARS.has(type.name)) out.push({ key, kind: "column", column: node.name.value, asString: false });
    else if (isScalarType(type) && STRING_SCALARS.has(type.name)) out.push({ key, kind: "column", column: node.name.value, asString: true });
    else if (isEnumType(type)) out.push({ key, kind: "column", column: node.name.value, asString: false });
    else return undefined;
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
