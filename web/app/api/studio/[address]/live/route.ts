/**
 * `POST /api/studio/<address>/live`: the creator's session (SIWE) starts a browser stream,
 * JSON `{title, tier}`; answers `{id, contentId, externalId, chunkMaxBytes, idleTimeoutSeconds}`.
 * Chunks then go to `PUT .../live/<id>/chunks/<seq>`, the end to `POST .../live/<id>/end`
 * (web/lib/server/golive.ts). `GET` lists the creator's browser streams on this server, newest
 * first, each as its public record (`GET /api/live/<id>`): `{streams: [...]}`.
 */
import { TIER_NAMES } from "@streamvault/lib/deployments/contract-types.ts";
import { BodyTooLargeError, readBodyText } from "@streamvault/lib/http/body-limit.ts";
import type { Tier } from "@streamvault/lib/catalog/chain/content.ts";
import { studioCreator } from "@/lib/server/keyrelease";
import { launchedRefusal } from "@/lib/server/signed-request";
import { CHUNK_MAX_BYTES, GoLiveError, IDLE_TIMEOUT_S, browserStreamIdsOf, startBrowserStream } from "@/lib/server/golive";
import { liveStatusOf } from "@/lib/server/live";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const json = (body: unknown, status = 200) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const creator = await studioCreator(request, (await ctx.params).address);
  if (creator instanceof Response) return creator;
  const records = await Promise.all(browserStreamIdsOf(creator).map((id) => liveStatusOf(id)));
  return json({ streams: records.filter((r) => r !== undefined) });
}

export async function POST(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const creator = await studioCreator(request, (await ctx.params).address);
  if (creator instanceof Response) return creator;
  let body: { title?: unknown; tier?: unknown };
  try {
    body = JSON.parse(await readBodyText(request, 4096)) as typeof body;
  } catch (err) {
    if (err instanceof BodyTooLargeError) return json({ error: "too_large", message: err.message }, 413);
    return json({ error: "bad_input", message: 'send JSON {"title": "...", "tier": "free" | "premium" | "exclusive"}' }, 400);
  }
  const title = typeof body.title === "string" ? body.title.trim() : "";
  if (title.length < 1 || title.length > 200) return json({ error: "bad_input", message: "the title must be 1-200 characters" }, 400);
  const tier = body.tier;
  if (typeof tier !== "string" || !(TIER_NAMES as readonly string[]).includes(tier)) return json({ error: "bad_input", message: `tier must be one of ${TIER_NAMES.join(", ")}` }, 400);
  const notLaunched = await launchedRefusal(creator, "go live");
  if (notLaunched) return json({ error: "not_launched", message: notLaunched }, 403);
  try {
    const started = await startBrowserStream(creator, { title, tier: tier as Tier });
    return json({ ...started, chunkMaxBytes: CHUNK_MAX_BYTES, idleTimeoutSeconds: IDLE_TIMEOUT_S }, 201);
  } catch (err) {
    if (err instanceof GoLiveError) return json({ error: err.code, message: err.message }, err.status);
    throw err;
  }
}
