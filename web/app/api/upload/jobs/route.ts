/** `GET /api/upload/jobs?creator=0x…&contentId=0x…`: the upload job of these bytes (the studio asks before it sends a file again). */
import { uploadService } from "@/lib/server/upload-jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request): Promise<Response> {
  return (await uploadService()).http.find(request);
}
