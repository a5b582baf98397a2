/** Key release (lib/keyrelease), mounted here: `GET /api/plays?ids=0x..,0x..` play counts of several items (the milestone watcher reads it). */
import { keyRelease } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(request: Request): Promise<Response> {
  return keyRelease(request);
}
