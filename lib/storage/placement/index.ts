/** Placement that acts: policy (policy.ts), the target it acts on (target.ts), applying and journaling (apply.ts, journal.ts), real cost and history (history.ts), plays over the window (plays.ts). */
export * from "./policy.ts";
export * from "./target.ts";
export * from "./journal.ts";
export * from "./apply.ts";
export * from "./history.ts";
export * from "./plays.ts";
export * from "./report.ts";
