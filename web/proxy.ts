/**
 * CORS for sites that embed @streamvault/sdk (sdk/README.md): their origins, listed in
 * `SDK_ORIGINS`, may call the key-release routes with the session cookie (credentials) and read
 * manifests and play counts. Playlists and pieces already answer any origin (`*`) in their routes.
 * Requests from other origins pass through unchanged: key release itself refuses unknown origins.
 */
import { NextResponse, type NextRequest } from "next/server";

function allowed(): Set<string> {
  return new Set(
    (process.env.SDK_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim().replace(/\/$/, ""))
      .filter(Boolean),
  );
}

export function proxy(request: NextRequest): NextResponse {
  const origin = request.headers.get("origin");
  if (origin === null || !allowed().has(origin)) return NextResponse.next();
  const cors = { "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true", Vary: "Origin" };
  if (request.method === "OPTIONS") {
    return new NextResponse(null, {
      status: 204,
      headers: { ...cors, "Access-Control-Allow-Methods": "GET, POST, OPTIONS", "Access-Control-Allow-Headers": "content-type", "Access-Control-Max-Age": "600" },
    });
  }
  const response = NextResponse.next();
  for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
  return response;
}

export const config = { matcher: ["/api/auth/:path*", "/api/keys/:path*", "/api/manifest/:path*", "/api/plays/:path*", "/api/plays"] };
