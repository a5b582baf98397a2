/** worker_threads body for PieceCidPool: hashes one piece per message. */
import { parentPort } from "node:worker_threads";
import * as Piece from "@filoz/synapse-core/piece";

parentPort!.on("message", (message: { id: number; bytes: Uint8Array }) => {
  try {
    const pieceCid = Piece.calculate(message.bytes).toString();
    parentPort!.postMessage({ id: message.id, pieceCid });
  } catch (err) {
    parentPort!.postMessage({ id: message.id, error: (err as Error).message });
  }
});
