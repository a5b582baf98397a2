/**
 * The on-chain live state of an item (LiveStreams: startLive / endLive by the item's creator),
 * idempotent like content registration: each call reads the state first and sends only what is
 * missing, so a resumed stream or a retry never fails on "already live".
 */
import type { Hex } from "viem";
import type { ChainContext } from "./client.ts";
import { sendAndWait } from "./client.ts";
import { contractOf } from "../../deployments/index.ts";
import { LIVE_STATUS_NAMES, type LiveStatusName } from "../../deployments/contract-types.ts";
import { liveCallsTo } from "../../chain/live-calls.ts";

export interface OnChainLiveStream {
  status: LiveStatusName;
  /** unix seconds; 0 before the start */
  startedAt: number;
  /** unix seconds; 0 until the end */
  endedAt: number;
  /** what the creator reported at the end */
  segments: number;
}

/** LiveStreams.streamOf (status "none" for an item never streamed); throws when the chain has no LiveStreams. */
export async function readLiveStream(ctx: ChainContext, contentId: Hex): Promise<OnChainLiveStream> {
  const { address, abi } = contractOf(ctx.deployment, "LiveStreams");
  const s = await ctx.publicClient.readContract({ address, abi, functionName: "streamOf", args: [contentId] });
  return { status: LIVE_STATUS_NAMES[s.status]!, startedAt: s.startedAt, endedAt: s.endedAt, segments: s.segments };
}

/**
 * Marks the caller's item live (LiveStreams.startLive). Nothing is sent when it is live already
 * (a resumed stream) or has ended.
 * @returns the transaction hash, or undefined when nothing was sent.
 */
export async function startLiveOnChain(ctx: ChainContext, contentId: Hex): Promise<Hex | undefined> {
  if (liveCallsTo((await readLiveStream(ctx, contentId)).status, "live").length === 0) return undefined;
  const { address, abi } = contractOf(ctx.deployment, "LiveStreams");
  return (await sendAndWait(ctx, () => ctx.walletClient.writeContract({ address, abi, functionName: "startLive", args: [contentId] }))).hash;
}

/**
 * Marks the caller's item ended with `segments` segments (LiveStreams.endLive). An item whose
 * start never reached the chain (that transaction failed) is started first, so every stream that
 * happened ends up recorded; nothing is sent when it has ended already.
 * @returns the hash of the endLive transaction, or undefined when nothing was sent.
 */
export async function endLiveOnChain(ctx: ChainContext, contentId: Hex, segments: number): Promise<Hex | undefined> {
  const calls = liveCallsTo((await readLiveStream(ctx, contentId)).status, "ended");
  if (calls.length === 0) return undefined;
  if (calls[0] === "startLive") await startLiveOnChain(ctx, contentId);
  const { address, abi } = contractOf(ctx.deployment, "LiveStreams");
  return (await sendAndWait(ctx, () => ctx.walletClient.writeContract({ address, abi, functionName: "endLive", args: [contentId, segments] }))).hash;
}

/** Announces live streams of `ctx`'s wallet on LiveStreams (what lib/live/archiver.ts's `liveState` option takes). */
export function liveStateOnChain(ctx: ChainContext): { start(contentId: Hex): Promise<Hex | undefined>; end(contentId: Hex, segments: number): Promise<Hex | undefined> } {
  return { start: (contentId) => startLiveOnChain(ctx, contentId), end: (contentId, segments) => endLiveOnChain(ctx, contentId, segments) };
}
