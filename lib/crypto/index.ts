export * from "./segment.ts";
export * from "./minute.ts";
