/** `POST /api/upload/jobs/<id>/registered {txHash}`: the creator's wallet registered the item; believed only when the chain shows it with the job's manifest. */
import { uploadService } from "@/lib/server/upload-jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(request: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  return (await uploadService()).http.registered((await ctx.params).id, request);
}
