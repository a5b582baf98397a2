export * from "./segment.ts";
