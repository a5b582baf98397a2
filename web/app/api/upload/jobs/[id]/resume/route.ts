/** `POST /api/upload/jobs/<id>/resume`: queues a failed job again; signed by its creator for the job's file (like the upload). */
import { uploadService } from "@/lib/server/upload-jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(request: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  return (await uploadService()).http.resume((await ctx.params).id, request);
}
