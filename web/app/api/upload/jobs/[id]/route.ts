/** `GET /api/upload/jobs/<id>`: the job's state, stage, progress (0..1), error and result. */
import { uploadService } from "@/lib/server/upload-jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(_request: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  return (await uploadService()).http.get((await ctx.params).id);
}
