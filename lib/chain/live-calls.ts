/**
 * Which LiveStreams calls take an item to a live state, from the state the chain shows: the one
 * rule behind every announcer (the CLI's lib/catalog/chain/live.ts, the web studio's wallet in the
 * page), so a resumed stream or a retry never fails on "already live". No Node imports (browser-safe).
 */
import type { LiveStatusName } from "../deployments/contract-types.ts";

export type LiveCall = "startLive" | "endLive";

/**
 * The calls, in order, that take an item whose status is `status` to `target`: none when it is
 * there already (or past it: an ended item is never live again); an item whose start never reached
 * the chain is started before it is ended, so every stream that happened ends up recorded.
 */
export function liveCallsTo(status: LiveStatusName, target: "live" | "ended"): LiveCall[] {
  if (status === "ended") return [];
  if (target === "live") return status === "none" ? ["startLive"] : [];
  return status === "none" ? ["startLive", "endLive"] : ["endLive"];
}
