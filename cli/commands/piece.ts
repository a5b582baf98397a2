/** `piece-cid <files...>`: PieceCID v2 of local files (streamed, any size up to one piece), as uploads will address them. */
import { statSync } from "node:fs";
import { MIN_PIECE_PAYLOAD, PieceInputError, pieceCidOfFile, pieceRooter } from "@streamvault/lib/piece";
import { CliError, EXIT, formatBytes, table, toJson } from "../context.ts";

export async function pieceCidCommand(files: string[], opts: { json?: boolean; pad?: boolean }): Promise<number> {
  const rows: { file: string; bytes: number; pieceCid?: string; error?: string }[] = [];
  for (const file of files) {
    let bytes: number;
    try {
      bytes = statSync(file).size;
    } catch {
      throw new CliError(`${file}: no such file`, "bad_input");
    }
    try {
      rows.push({ file, bytes, pieceCid: await pieceCidOfFile(file, { pad: opts.pad }) });
    } catch (err) {
      if (!(err instanceof PieceInputError)) throw err;
      rows.push({ file, bytes, error: err.size < MIN_PIECE_PAYLOAD ? `under ${MIN_PIECE_PAYLOAD} bytes: bundle it with other files, or use --pad` : "over the one-piece limit: split it" });
    }
  }
  const failed = rows.filter((r) => r.error !== undefined).length;
  if (opts.json) {
    console.log(toJson({ path: pieceRooter().detail, files: rows }));
  } else {
    const t = table({ head: ["file", "size", "PieceCID"] });
    for (const r of rows) t.push([r.file, formatBytes(r.bytes), r.pieceCid ?? `error: ${r.error}`]);
    console.log(t.toString());
    console.error(`hashed with ${pieceRooter().detail}`);
  }
  return failed === 0 ? EXIT.OK : failed === rows.length && rows.length === 1 ? EXIT.USAGE : EXIT.PARTIAL;
}
