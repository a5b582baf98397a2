/** worker_threads body of the portable path: chunk roots of the bytes it is sent. */
import { parentPort } from "node:worker_threads";
import { chunkRoots } from "./roots.ts";

parentPort!.on("message", ({ id, data, chunkHeight }: { id: number; data: Uint8Array; chunkHeight: number }) => {
  const roots = chunkRoots(data, chunkHeight);
  parentPort!.postMessage({ id, roots }, [roots.buffer as ArrayBuffer]);
});
