/**
 * Browser uploads: `POST /api/upload?creator=0x…&tier=premium[&freeStandard=1]` with one or more files
 * (multipart). `freeStandard=1` (premium/exclusive) gives the standard variant away in the clear;
 * without it only the 30-second preview is. Each file goes through the shared pipeline (lib/media processMedia + publish):
 * validated, encoded per tier, encrypted, stored, key sealed. The response streams NDJSON
 * progress lines per file, ending with `{file, done: true, contentId, externalId, manifestCid, warnings}`
 * (or `{file, error}`); the creator's wallet then registers each item on chain. `warnings` lists
 * what ingest found odd about an accepted file (`{code: "mostly-silent", message}`), empty if nothing.
 * The form carries `message` + `signature`: the creator signs "StreamVault upload" with the
 * wallet address and a time (valid 10 minutes), and the wallet must have launched as a creator,
 * so nobody can fill the store anonymously.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeAbiParameters, keccak256, type Hex } from "viem";
import { checkSignedRequest } from "@/lib/server/signed-request";
import { pieceStore } from "@/lib/server/store";
import { keyStore } from "@/lib/server/keystore";
import { repoImport } from "@/lib/server/repo-lib";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const MAX_BYTES = 1024 * 1024 * 1024;
type MediaLib = typeof import("../../../../lib/media/index.ts");

export async function POST(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const creator = url.searchParams.get("creator") ?? "";
  const tier = url.searchParams.get("tier") ?? "premium";
  if (!/^0x[0-9a-fA-F]{40}$/.test(creator)) return Response.json({ error: "creator must be an address" }, { status: 400 });
  if (!["free", "premium", "exclusive"].includes(tier)) return Response.json({ error: "tier must be free, premium or exclusive" }, { status: 400 });
  const freeStandardParam = url.searchParams.get("freeStandard") ?? "0";
  if (!["0", "1"].includes(freeStandardParam)) return Response.json({ error: "freeStandard must be 0 or 1" }, { status: 400 });
  const freeStandard = freeStandardParam === "1";
  if (freeStandard && tier === "free") return Response.json({ error: "freeStandard is for premium or exclusive items (a free item is in the clear anyway)" }, { status: 400 });
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return Response.json({ error: "expected multipart/form-data with files" }, { status: 400 });
  }
  const files = form.getAll("files").filter((f): f is File => f instanceof File);
  if (files.length === 0) return Response.json({ error: "no files" }, { status: 400 });
  const refusal = await checkSignedRequest("upload", creator as Hex, form.get("message"), form.get("signature"));
  if (refusal) return Response.json({ error: refusal }, { status: 403 });

  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (line: object) => controller.enqueue(encoder.encode(JSON.stringify(line) + "\n"));
      const media = await repoImport<MediaLib>("lib/media/index.ts");
      const [store, keys] = await Promise.all([pieceStore(), keyStore()]);
      for (const file of files) {
        const dir = await mkdtemp(join(tmpdir(), "sv-upload-"));
        try {
          if (file.size > MAX_BYTES) throw new Error("file is larger than 1 GiB");
          send({ file: file.name, stage: "received", progress: 0.05 });
          const bytes = new Uint8Array(await file.arrayBuffer());
          const source = join(dir, file.name.replace(/[^A-Za-z0-9._-]/g, "_") || "upload");
          await writeFile(source, bytes);
          const sha = createHash("sha256").update(bytes).digest("hex");
          const externalId = keccak256(`0x${sha}`);
          const contentId = keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [creator as Hex, externalId])).toLowerCase();
          send({ file: file.name, stage: "processing", progress: 0.1 });
          const processed = await media.processMedia(source, { contentId, tier: tier as "premium", workDir: join(dir, "work"), freeStandard });
          send({ file: file.name, stage: "storing", progress: 0.7 });
          const manifestCid = await media.publish(processed, store, {
            keyStore: keys,
            onProgress: (done: number, total: number) => send({ file: file.name, stage: "storing", progress: 0.7 + 0.3 * (done / total) }),
          });
          const warnings = processed.info.warnings.map(({ code, message }) => ({ code, message }));
          send({ file: file.name, done: true, progress: 1, contentId, externalId, manifestCid, title: processed.info?.tags?.title ?? file.name, warnings });
        } catch (error) {
          const e = error as { reason?: string; message?: string };
          send({ file: file.name, error: e.reason ? `${e.reason}: ${e.message}` : (e.message ?? String(error)) });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      controller.close();
    },
  });
  return new Response(stream, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
}
