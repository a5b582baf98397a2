/** Key release (lib/keyrelease), mounted here: see lib/server/keyrelease.ts. */
import { keyRelease } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(request: Request): Promise<Response> {
  return keyRelease(request);
}
