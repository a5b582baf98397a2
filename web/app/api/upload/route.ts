/**
 * Browser uploads as durable jobs (lib/catalog/uploads/http.ts): `POST /api/upload?creator=0x…&
 * tier=premium&name=<file>&sha256=<hex>` with the file's raw bytes as the body and the creator's
 * single-use, body-bound signed request in the `x-streamvault-request` / `x-streamvault-signature`
 * headers (lib/signed-request). The signature, the launched-creator check and the size limit are
 * checked before the body is read; the body is hashed while it streams to the spool directory; the
 * answer (202) is the job id. Progress: `GET /api/upload/jobs/<id>`; any instance's worker runs it.
 */
import { uploadService } from "@/lib/server/upload-jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(request: Request): Promise<Response> {
  return (await uploadService()).http.receive(request);
}
