/**
 * `npm run coverage`: runs the contract tests (Solidity fuzz/invariant tests and the mocha suites in
 * test/contracts) with Hardhat's coverage, then writes bench/coverage.json as
 * {"lines": pct, "branches": pct, "functions": pct} for contracts/, excluding test-only contracts
 * (contracts/test, contracts/mocks).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../lib/deployments/artifacts.ts";

const contractTests = readdirSync(join(REPO_ROOT, "test/contracts"))
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => join("test/contracts", f));
const run = spawnSync("hardhat", ["test", "--coverage", "solidity"], { cwd: REPO_ROOT, stdio: "inherit" });
const solidityLcov = readFileSync(join(REPO_ROOT, "coverage/lcov.info"), "utf8");
const mocha = spawnSync("hardhat", ["test", "--coverage", "mocha", ...contractTests], { cwd: REPO_ROOT, stdio: "inherit" });
const mochaLcov = readFileSync(join(REPO_ROOT, "coverage/lcov.info"), "utf8");
if (run.status !== 0 || mocha.status !== 0) {
  console.error("coverage: some contract tests failed; figures below cover the passing ones");
}

/** Per source file: the union of hit lines / branches / functions over both runs. */
type Hits = { lines: Map<string, boolean>; branches: Map<string, boolean>; functions: Map<string, boolean> };
const files = new Map<string, Hits>();
function merge(lcov: string) {
  let current: Hits | undefined;
  for (const line of lcov.split("\n")) {
    const [tag, rest] = [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)];
    if (tag === "SF") {
      const path = rest.replace(/^.*?(contracts\/)/, "$1");
      const excluded = !path.startsWith("contracts/") || path.startsWith("contracts/test/") || path.startsWith("contracts/mocks/");
      current = excluded ? undefined : (files.get(path) ?? { lines: new Map(), branches: new Map(), functions: new Map() });
      if (current) files.set(path, current);
    } else if (!current) {
      continue;
    } else if (tag === "DA") {
      const [n, count] = rest.split(",");
      current.lines.set(n, (current.lines.get(n) ?? false) || Number(count) > 0);
    } else if (tag === "BRDA") {
      const [n, block, branch, taken] = rest.split(",");
      const key = `${n}:${block}:${branch}`;
      current.branches.set(key, (current.branches.get(key) ?? false) || (taken !== "-" && Number(taken) > 0));
    } else if (tag === "FNDA") {
      const [count, name] = rest.split(",");
      current.functions.set(name, (current.functions.get(name) ?? false) || Number(count) > 0);
    }
  }
}
merge(solidityLcov);
merge(mochaLcov);

const pct = (kind: keyof Hits) => {
  let hit = 0;
  let total = 0;
  for (const f of files.values()) for (const v of f[kind].values()) (total++, v && hit++);
  return total === 0 ? 100 : Math.round((hit / total) * 10_000) / 100;
};
const result = { lines: pct("lines"), branches: pct("branches"), functions: pct("functions") };
for (const [path, f] of [...files].sort()) {
  const missed = [...f.lines].filter(([, v]) => !v).map(([n]) => n);
  const missedBranches = [...f.branches].filter(([, v]) => !v).map(([k]) => k.split(":")[0]);
  console.log(
    `${path.padEnd(42)} lines ${missed.length ? "missed " + missed.join(",") : "all"}; branches ${missedBranches.length ? "missed at " + [...new Set(missedBranches)].join(",") : "all"}`,
  );
}
mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
writeFileSync(join(REPO_ROOT, "bench/coverage.json"), JSON.stringify(result, null, 2) + "\n");
console.log(`coverage of contracts/ (test-only contracts excluded): ${JSON.stringify(result)} -> bench/coverage.json`);
