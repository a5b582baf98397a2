/**
 * `npm run coverage`: runs the contract tests with Hardhat's built-in coverage and writes
 * bench/coverage.json as {"lines": pct, "branches": pct, "functions": pct} for contracts/,
 * excluding test-only contracts (test/contracts/**, contracts/mocks/**; interfaces have no
 * executable code). Prints a per-file table and the missed lines/branches/functions.
 *
 * How it works
 * - Two Hardhat invocations: `hardhat test --coverage solidity` (test/contracts/*.t.sol: unit, fuzz
 *   and invariant tests) and `hardhat test --coverage mocha` over every *.test.ts under test/contracts/. Each run only
 *   clears its own coverage/data/<runner>/ directory (Hardhat's onTestRunStart hook), so after both
 *   runs coverage/data/solidity and coverage/data/mocha hold the executed statement tags of each
 *   ({tagHex: number of executions that hit it}); we sum them. coverage/data is removed up front so a run that
 *   never starts (compile error) cannot leave stale data behind. Hardhat's own report
 *   (coverage/lcov.info, the table it prints) only reflects the runner of that invocation.
 * - Statements: `addStatementCoverageInstrumentation(content, "project/<path>", "0.8.28")` from
 *   @nomicfoundation/edr gives, per file, the same statement tags Hardhat instrumented the build with
 *   (tags are derived from source text, source name and solc version, so any edit to a file changes
 *   all its tags). Executed tags that match no file, or a contract file that changed while the tests
 *   ran, mean the measurement is unreliable: we then write nothing and exit 2.
 * - Lines: Hardhat's own algorithm (process-coverage.js, getProcessedCoverageInfo), so line figures
 *   match Hardhat's report. NB Hardhat counts a line as missed if any statement on it was not run,
 *   e.g. `if (x == 0) revert Zero();` is a missed line until some test hits the revert.
 * - AST: solc 0.8.28 (the `solc` wasm package) parses each file (stopAfter: "parsing", no import
 *   resolution, ~1 s). `src` offsets are UTF-8 byte offsets; they are converted to UTF-16 indexes
 *   before being compared with the instrumentation ranges. Each instrumented statement range
 *   (which also spans the whitespace before/after the statement) is matched to the largest AST
 *   statement it contains.
 * - Functions: every FunctionDefinition/ModifierDefinition (constructors, receive/fallback included)
 *   with a body containing at least one instrumented statement; covered if any of those ran.
 *   Functions with an empty body (e.g. `constructor(...) Base(...) {}`) have nothing to observe and
 *   are not counted.
 * - Branches: each `if` gives two branches. hits(x) below is the number of recorded executions
 *   (transactions, eth_calls, Solidity test runs) in which statement x ran: EDR reports the *set* of
 *   tags hit per execution and Hardhat adds them up, so these are not loop iteration counts.
 *     true:  the `if`'s body ran (the body's own tag, e.g. its `{ ... }` block or a bare
 *            `revert E();`, was hit).
 *     false: with `else`: the else-body ran. Without `else` the false branch has no tag of its own,
 *            so it is inferred; it counts as covered if either holds:
 *            (a) the `if` has a next statement S in its block and S ran in some execution in which
 *                the body did not: hits(S) > hits(body); or, when the body always leaves (ends in
 *                revert/return/break/continue), hits(S) > 0. Sound: S is only reached through the
 *                `if`, either by its false branch or by falling out of its body.
 *            (b) the condition makes no function call and the `if` ran in some execution in which
 *                its body did not: hits(if) > hits(body). This is what decides an `if` that is
 *                the last statement of its block (or an `else if` without else). Caveat: an execution that
 *                stops inside the condition also counts here; with call-free conditions that is only
 *                running out of gas right there (eth_estimateGas probes, which EDR also records) or
 *                an arithmetic panic in the condition. Conditions with calls (`token.balanceOf(x) < y`)
 *                are not trusted with (b): the call can revert (or run out of gas), and only (a) applies.
 *            An `if` with neither a next statement nor a call-free condition (e.g. the last
 *            `if (token.balanceOf(x) >= min) return ...;` of a block) has an unobservable false branch.
 *   Unobservable branches (those, and bodies without an instrumented statement, `if (x) {}`) are
 *   listed separately and left out of the totals.
 * - Not counted as branches (not visible at statement granularity): the ternary `?:`, short-circuit
 *   `&&`/`||`, `require(cond, ...)`, try/catch clauses, and loop conditions (zero vs. some iterations).
 *
 * Exit status: 0 when all tests passed; 1 when tests failed or Hardhat errored (figures are still
 * written when both runners produced coverage data; a runner without data, e.g. a compile error,
 * means nothing is written); 2 when the sources changed under the run (nothing written).
 *
 * `npm run coverage -- --no-run` skips the tests and re-analyses the data of the last run (its
 * figures are only valid if contracts/ has not changed since; otherwise the tag check exits 2).
 *
 * Runs with Node 22 (type stripping): `export PATH=$PWD/node_modules/.bin:$PATH; npm run coverage`.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { addStatementCoverageInstrumentation } from "@nomicfoundation/edr";
import Table from "cli-table3";
import { getProcessedCoverageInfo } from "../node_modules/hardhat/dist/src/internal/builtin-plugins/coverage/process-coverage.js";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";

/** The solc version of hardhat.config.ts; Hardhat instruments with it (EDR supports it). */
const SOLC_VERSION = "0.8.28";
const require = createRequire(import.meta.url);
const HARDHAT_CLI = join(REPO_ROOT, "node_modules/hardhat/dist/src/cli.js");
const COVERAGE_DATA = join(REPO_ROOT, "coverage/data");
const RUNNERS = ["solidity", "mocha"] as const;
type Runner = (typeof RUNNERS)[number];

// ---------------------------------------------------------------------------------------------
// Source files
// ---------------------------------------------------------------------------------------------

function solidityFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...solidityFiles(path));
    else if (entry.name.endsWith(".sol")) out.push(path);
  }
  return out.sort();
}
const isTestOnly = (path: string) => path.startsWith("test/contracts/") || path.startsWith("contracts/mocks/");
/** Everything Hardhat may instrument (it skips only the `*.t.sol` test files themselves): contracts and the Solidity tests' helpers. */
const instrumentable = [...solidityFiles("contracts"), ...solidityFiles("test/contracts")].filter((p) => !p.endsWith(".t.sol"));
const reported = instrumentable.filter((p) => !isTestOnly(p));
const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");
const snapshot = new Map(reported.map((p) => [p, read(p)]));
const helperSnapshot = new Map(instrumentable.filter(isTestOnly).map((p) => [p, read(p)]));
const changedSince = (snap: Map<string, string>) =>
  [...snap].filter(([p, content]) => !existsSync(join(REPO_ROOT, p)) || read(p) !== content).map(([p]) => p);

// ---------------------------------------------------------------------------------------------
// Run the tests
// ---------------------------------------------------------------------------------------------

type RunResult = { runner: Runner; status: number | null; failing: number; seconds: number };

function runTests(runner: Runner, files: string[]): Promise<RunResult> {
  const started = Date.now();
  // The instrumented build goes to its own artifacts/cache folders (see hardhat.config.ts), so
  // deploys and gas benchmarks never pick up instrumented bytecode.
  const env = {
    ...process.env,
    HARDHAT_ARTIFACTS_DIR: "coverage/artifacts",
    HARDHAT_CACHE_DIR: "coverage/cache",
    ...(process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}),
  };
  const child = spawn(process.execPath, [HARDHAT_CLI, "test", "--coverage", runner, ...files], {
    cwd: REPO_ROOT,
    env,
    stdio: ["inherit", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (process.stdout.write(chunk), (output += chunk.toString())));
  child.stderr.on("data", (chunk: Buffer) => (process.stderr.write(chunk), (output += chunk.toString())));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => {
      // eslint-disable-next-line no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
      const failing = [...plain.matchAll(/^\s*(\d+) failing/gm)].reduce((n, m) => n + Number(m[1]), 0);
      resolve({ runner, status, failing, seconds: (Date.now() - started) / 1000 });
    });
  });
}

// Recursive: the PaymentChannels suites are one file per feature under test/contracts/payment-channels/.
const mochaFiles = (readdirSync(join(REPO_ROOT, "test/contracts"), { recursive: true }) as string[])
  .filter((f) => f.endsWith(".test.ts"))
  .sort()
  .map((f) => `test/contracts/${f}`);

const runs: RunResult[] = [];
let changedBetweenRuns: string[] = [];
if (!process.argv.includes("--no-run")) {
  rmSync(COVERAGE_DATA, { recursive: true, force: true });
  runs.push(await runTests("solidity", []));
  changedBetweenRuns = changedSince(snapshot);
  runs.push(await runTests("mocha", mochaFiles));
}

// ---------------------------------------------------------------------------------------------
// Executed tags
// ---------------------------------------------------------------------------------------------

const hitCounts = new Map<string, number>();
const runnersWithoutData: Runner[] = [];
for (const runner of RUNNERS) {
  const dir = join(COVERAGE_DATA, runner);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
  if (files.length === 0) runnersWithoutData.push(runner);
  for (const f of files) {
    const data = JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, number>;
    for (const [tag, count] of Object.entries(data)) hitCounts.set(tag, (hitCounts.get(tag) ?? 0) + count);
  }
}
const hits = (tag: string) => hitCounts.get(tag) ?? 0;

// ---------------------------------------------------------------------------------------------
// Instrumentation metadata and AST per file
// ---------------------------------------------------------------------------------------------

type Probe = { tag: string; start: number; end: number; hits: number };

function probesOf(path: string, content: string): Probe[] {
  const { metadata } = addStatementCoverageInstrumentation(content, `project/${path}`, SOLC_VERSION);
  return metadata
    .filter((m) => m.kind === "statement")
    .map((m) => {
      const tag = Buffer.from(m.tag).toString("hex");
      return { tag, start: m.startUtf16, end: m.endUtf16, hits: hits(tag) };
    });
}

const knownTags = new Set<string>();
const probesByFile = new Map<string, Probe[]>();
for (const [path, content] of snapshot) {
  const probes = probesOf(path, content);
  probesByFile.set(path, probes);
  for (const p of probes) knownTags.add(p.tag);
}
for (const [path, content] of helperSnapshot) {
  try {
    for (const p of probesOf(path, content)) knownTags.add(p.tag);
  } catch {
    // a test helper EDR cannot parse: Hardhat would have failed to build it too
  }
}
const unknownTags = [...hitCounts.keys()].filter((t) => !knownTags.has(t));

type AstNode = { nodeType: string; src: string; [key: string]: unknown };
type Parsed = { root: AstNode; range: (n: AstNode) => [number, number] };

function parseAll(): Map<string, Parsed> {
  const solc = require("solc") as { compile(input: string, callbacks?: object): string };
  const input = {
    language: "Solidity",
    sources: Object.fromEntries([...snapshot].map(([p, content]) => [p, { content }])),
    settings: { stopAfter: "parsing", outputSelection: { "*": { "": ["ast"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: () => ({ error: "not resolved" }) })) as {
    errors?: { severity: string; formattedMessage: string }[];
    sources?: Record<string, { ast: AstNode }>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(`solc could not parse the contracts:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  const parsed = new Map<string, Parsed>();
  for (const [path, content] of snapshot) {
    // solc `src` offsets count UTF-8 bytes; instrumentation ranges and JS strings count UTF-16 units.
    const byteToUtf16 = new Int32Array(Buffer.byteLength(content) + 1);
    let byte = 0;
    for (let i = 0; i < content.length; ) {
      const cp = content.codePointAt(i)!;
      const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < bytes; k++) byteToUtf16[byte + k] = i;
      byte += bytes;
      i += cp > 0xffff ? 2 : 1;
    }
    byteToUtf16[byte] = content.length;
    const range = (n: AstNode): [number, number] => {
      const [start, length] = n.src.split(":").map(Number);
      return [byteToUtf16[start], byteToUtf16[start + length]];
    };
    parsed.set(path, { root: output.sources![path].ast, range });
  }
  return parsed;
}

const STATEMENTS = new Set([
  "Block",
  "UncheckedBlock",
  "PlaceholderStatement",
  "IfStatement",
  "TryStatement",
  "WhileStatement",
  "DoWhileStatement",
  "ForStatement",
  "Continue",
  "Break",
  "Return",
  "Throw",
  "EmitStatement",
  "RevertStatement",
  "VariableDeclarationStatement",
  "ExpressionStatement",
  "InlineAssembly",
]);

function children(node: AstNode): AstNode[] {
  const out: AstNode[] = [];
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === "object" && typeof (v as AstNode).nodeType === "string") out.push(v as AstNode);
  };
  for (const [key, value] of Object.entries(node)) if (key !== "documentation") visit(value);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-file analysis
// ---------------------------------------------------------------------------------------------

type Branch = { line: number; side: "true" | "false"; covered: boolean | undefined; code: string; note?: string };
type Fn = { line: number; name: string; covered: boolean };
type FileReport = {
  path: string;
  lines: { hit: number; total: number; missed: number[] };
  branches: Branch[];
  functions: Fn[];
  unmappedProbes: number;
};

function analyse(path: string, content: string, probes: Probe[], { root, range }: Parsed): FileReport {
  const lineOf = (offset: number) => content.slice(0, offset).split("\n").length;
  const parent = new Map<AstNode, AstNode>();
  const statements: { node: AstNode; start: number; end: number }[] = [];
  const stack: AstNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (STATEMENTS.has(node.nodeType)) statements.push({ node, ...toObj(range(node)) });
    for (const c of children(node)) (parent.set(c, node), stack.push(c));
  }
  // Each instrumented range covers one statement plus surrounding whitespace: match it to the
  // largest statement it contains (its nested statements are smaller, its siblings lie outside).
  const probeOf = new Map<AstNode, Probe>();
  let unmappedProbes = 0;
  for (const p of probes) {
    let best: { node: AstNode; start: number; end: number } | undefined;
    for (const s of statements) {
      if (s.start >= p.start && s.end <= p.end && (!best || s.end - s.start > best.end - best.start)) best = s;
    }
    if (best) probeOf.set(best.node, p);
    else unmappedProbes++;
  }
  const subtreeProbes = (node: AstNode): Probe[] => {
    const out: Probe[] = [];
    const walk = (n: AstNode) => {
      const p = probeOf.get(n);
      if (p) out.push(p);
      children(n).forEach(walk);
    };
    walk(node);
    return out;
  };
  /** How often `node` was entered: its own tag, or for an untagged block, its first tagged statement. */
  const entries = (node: AstNode): number | undefined => {
    const p = probeOf.get(node);
    if (p) return p.hits;
    if (node.nodeType === "Block" || node.nodeType === "UncheckedBlock") {
      for (const s of node.statements as AstNode[]) {
        const n = entries(s);
        if (n !== undefined) return n;
      }
    }
    return undefined;
  };
  const alwaysLeaves = (node: AstNode): boolean => {
    switch (node.nodeType) {
      case "Return":
      case "RevertStatement":
      case "Break":
      case "Continue":
      case "Throw":
        return true;
      case "ExpressionStatement": {
        const e = node.expression as AstNode;
        const callee = e.nodeType === "FunctionCall" ? (e.expression as AstNode) : undefined;
        return callee?.nodeType === "Identifier" && callee.name === "revert";
      }
      case "Block":
      case "UncheckedBlock": {
        const list = node.statements as AstNode[];
        return list.length > 0 && alwaysLeaves(list[list.length - 1]);
      }
      case "IfStatement":
        return node.falseBody != null && alwaysLeaves(node.trueBody as AstNode) && alwaysLeaves(node.falseBody as AstNode);
      default:
        return false;
    }
  };

  /** Whether an expression calls anything (type conversions like `address(0)` aside). */
  const callsIn = (expr: AstNode): boolean =>
    (expr.nodeType === "FunctionCall" && (expr.expression as AstNode).nodeType !== "ElementaryTypeNameExpression") ||
    children(expr).some(callsIn);

  const branches: Branch[] = [];
  const functions: Fn[] = [];
  for (const { node } of statements.filter((s) => s.node.nodeType === "IfStatement").sort((a, b) => a.start - b.start)) {
    const [start] = range(node);
    const line = lineOf(start);
    const code = content.slice(start, content.indexOf("\n", start)).trim();
    const trueBody = node.trueBody as AstNode;
    const trueHits = entries(trueBody);
    branches.push({ line, side: "true", covered: trueHits === undefined ? undefined : trueHits > 0, code });
    let falseCovered: boolean | undefined;
    let note: string | undefined;
    if (node.falseBody != null) {
      const n = entries(node.falseBody as AstNode);
      falseCovered = n === undefined ? undefined : n > 0;
    } else if (trueHits !== undefined) {
      const block = parent.get(node);
      const siblings = block && (block.nodeType === "Block" || block.nodeType === "UncheckedBlock") ? (block.statements as AstNode[]) : [];
      const next = siblings[siblings.indexOf(node) + 1] as AstNode | undefined;
      const nextHits = next && entries(next);
      const ifHits = probeOf.get(node)?.hits;
      const callFree = !callsIn(node.condition as AstNode);
      const ruleA = nextHits !== undefined && nextHits > (alwaysLeaves(trueBody) ? 0 : trueHits);
      const ruleB = callFree && ifHits !== undefined && ifHits > trueHits;
      if (ruleA || ruleB) falseCovered = true;
      else if (nextHits === undefined && !callFree) {
        falseCovered = undefined; // no next statement, and (b) is not trusted with calls
        note = "last statement of its block with a calling condition";
      } else {
        falseCovered = false;
        note = nextHits === undefined ? "the if never ran without entering its body" : "the next statement never ran without the body";
      }
    }
    branches.push({ line, side: "false", covered: falseCovered, code, note });
  }
  const contracts = children(root).filter((n) => n.nodeType === "ContractDefinition");
  for (const contract of contracts) {
    for (const fn of children(contract)) {
      if ((fn.nodeType !== "FunctionDefinition" && fn.nodeType !== "ModifierDefinition") || fn.body == null) continue;
      const inBody = subtreeProbes(fn.body as AstNode);
      if (inBody.length === 0) continue; // empty body: nothing to observe
      const kind = fn.nodeType === "ModifierDefinition" ? "modifier " : "";
      const name = (fn.name as string) || (fn.kind as string);
      functions.push({ line: lineOf(range(fn)[0]), name: `${contract.name as string}.${kind}${name}`, covered: inBody.some((p) => p.hits > 0) });
    }
  }

  const hitTags = new Set(probes.filter((p) => p.hits > 0).map((p) => p.tag));
  const statementsMeta = probes.map((p) => ({ relativePath: path, tag: p.tag, startUtf16: p.start, endUtf16: p.end }));
  const { lines } = getProcessedCoverageInfo(content, statementsMeta, hitTags);
  return {
    path,
    lines: { hit: lines.executed.size, total: lines.executed.size + lines.unexecuted.size, missed: [...lines.unexecuted.keys()].sort((a, b) => a - b) },
    branches,
    functions,
    unmappedProbes,
  };
}
function toObj([start, end]: [number, number]) {
  return { start, end };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const changedDuringRun = [...new Set([...changedBetweenRuns, ...changedSince(snapshot)])];
const helpersChanged = changedSince(helperSnapshot);
const failures: string[] = [];
for (const r of runs) {
  if (r.status !== 0) {
    failures.push(
      r.failing > 0
        ? `${r.runner}: ${r.failing} failing test(s)`
        : `${r.runner}: hardhat exited with status ${r.status} (no failing test reported: a compile error or a Hardhat error, see above)`,
    );
  }
}
if (changedDuringRun.length > 0 || (unknownTags.length > 0 && helpersChanged.length === 0)) {
  console.error(
    changedDuringRun.length > 0
      ? `\ncoverage: ${changedDuringRun.join(", ")} changed while the tests ran; the recorded tags no longer match. Nothing written; rerun.`
      : `\ncoverage: ${unknownTags.length} executed statement tag(s) match no file under contracts/ (did EDR/Hardhat change how tags are derived?). Nothing written.`,
  );
  process.exit(2);
}
if (runnersWithoutData.length > 0) {
  console.error(`\ncoverage: no coverage data from ${runnersWithoutData.join(" and ")}; ${failures.join("; ") || "see the output above"}. Nothing written.`);
  process.exit(1);
}

const parsed = parseAll();
const reports = reported.map((p) => analyse(p, snapshot.get(p)!, probesByFile.get(p)!, parsed.get(p)!));
const counted = reports.filter((r) => r.lines.total > 0 || r.functions.length > 0 || r.branches.length > 0);

const pct = (hit: number, total: number) => (total === 0 ? 100 : Math.round((hit / total) * 10_000) / 100);
const fmt = (hit: number, total: number) => `${pct(hit, total).toFixed(2)} (${hit}/${total})`;
const sum = (f: (r: FileReport) => [number, number]) => counted.map(f).reduce(([h, t], [a, b]) => [h + a, t + b], [0, 0]);
const lineTotals = (r: FileReport): [number, number] => [r.lines.hit, r.lines.total];
const branchTotals = (r: FileReport): [number, number] => {
  const measurable = r.branches.filter((b) => b.covered !== undefined);
  return [measurable.filter((b) => b.covered).length, measurable.length];
};
const fnTotals = (r: FileReport): [number, number] => [r.functions.filter((f) => f.covered).length, r.functions.length];
const compactLines = (lines: number[]) => {
  const parts: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j] + 1) j++;
    parts.push(i === j ? `${lines[i]}` : `${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
};

const table = new Table({
  head: ["File", "Lines %", "Branches %", "Functions %", "Missed lines", "Missed branches (line:side)", "Missed functions"],
  colWidths: [null, null, null, null, 24, 30, 34],
  wordWrap: true,
  ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
});
for (const r of counted) {
  const missedBranches = r.branches.filter((b) => b.covered === false).map((b) => `${b.line}:${b.side[0].toUpperCase()}`);
  table.push([
    r.path.replace(/^contracts\//, ""),
    fmt(...lineTotals(r)),
    fmt(...branchTotals(r)),
    fmt(...fnTotals(r)),
    compactLines(r.lines.missed) || "-",
    missedBranches.join(", ") || "-",
    r.functions.filter((f) => !f.covered).map((f) => `${f.name} (${f.line})`).join(", ") || "-",
  ]);
}
const [lh, lt] = sum(lineTotals);
const [bh, bt] = sum(branchTotals);
const [fh, ft] = sum(fnTotals);
table.push(["Total", fmt(lh, lt), fmt(bh, bt), fmt(fh, ft), "", "", ""]);
console.log("\nCoverage of contracts/ (excluding contracts/mocks and the test helpers in test/contracts); T/F = if condition true/false");
console.log(table.toString());

const missedBranches = counted.flatMap((r) => r.branches.filter((b) => b.covered === false).map((b) => ({ ...b, path: r.path })));
if (missedBranches.length > 0) {
  console.log("\nBranches no test takes:");
  for (const b of missedBranches) console.log(`  ${b.path}:${b.line}  ${b.side.padEnd(5)}  ${b.code}${b.note ? `   [${b.note}]` : ""}`);
}
const missedFunctions = counted.flatMap((r) => r.functions.filter((f) => !f.covered).map((f) => ({ ...f, path: r.path })));
if (missedFunctions.length > 0) {
  console.log("\nFunctions no test calls:");
  for (const f of missedFunctions) console.log(`  ${f.path}:${f.line}  ${f.name}`);
}
const unmeasurable = counted.flatMap((r) => r.branches.filter((b) => b.covered === undefined).map((b) => ({ ...b, path: r.path })));
if (unmeasurable.length > 0) {
  console.log("\nBranches that cannot be observed at statement granularity (not counted):");
  for (const b of unmeasurable) console.log(`  ${b.path}:${b.line}  ${b.side.padEnd(5)}  ${b.code}   [${b.note ?? "body has no statement"}]`);
}
const unmapped = counted.reduce((n, r) => n + r.unmappedProbes, 0);
if (unmapped > 0) console.warn(`\ncoverage: ${unmapped} instrumented statement(s) matched no AST statement (ignored for branches/functions)`);

const result = { lines: pct(lh, lt), branches: pct(bh, bt), functions: pct(fh, ft) };
mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
writeFileSync(join(REPO_ROOT, "bench/coverage.json"), JSON.stringify(result, null, 2) + "\n");
const timing = runs.map((r) => `${r.runner} ${r.seconds.toFixed(0)} s`).join(", ") || "tests not run: --no-run";
console.log(`\ncoverage: ${JSON.stringify(result)} -> ${relative(process.cwd(), join(REPO_ROOT, "bench/coverage.json"))} (${timing})`);
if (failures.length > 0) {
  console.error(`coverage: tests did not all pass (${failures.join("; ")}); the figures above only reflect what ran.`);
  process.exit(1);
}
