/**
 * HLS playlists that address segments by PieceCID, so a player fetches `${prefix}${pieceCid}`
 * (e.g. `/piece/<cid>` on the gateway). Encrypted segments are decrypted by the player's loader
 * using the nonce/index recorded in the manifest (no EXT-X-KEY: the scheme is AES-GCM per segment).
 */

export interface PlaylistSegment {
  pieceCid: string;
  duration: number;
}

/** A VOD media playlist for one variant. */
export function mediaPlaylist(segments: readonly PlaylistSegment[], pieceUrlPrefix: string): string {
  const target = Math.max(1, Math.ceil(Math.max(...segments.map((s) => s.duration)) - 1e-6));
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", `#EXT-X-TARGETDURATION:${target}`, "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"];
  for (const s of segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, `${pieceUrlPrefix}${s.pieceCid}`);
  lines.push("#EXT-X-ENDLIST", "");
  return lines.join("\n");
}

export interface MasterEntry {
  /** URI of the media playlist, e.g. "standard.m3u8" */
  uri: string;
  peakBandwidth: number;
  averageBandwidth: number;
  codecs: string;
  width?: number;
  height?: number;
}

/** A master playlist; entries should be ordered highest quality first. */
export function masterPlaylist(entries: readonly MasterEntry[]): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const e of entries) {
    const attrs = [`BANDWIDTH=${e.peakBandwidth}`, `AVERAGE-BANDWIDTH=${e.averageBandwidth}`, `CODECS="${e.codecs}"`];
    if (e.width !== undefined && e.height !== undefined) attrs.push(`RESOLUTION=${e.width}x${e.height}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, e.uri);
  }
  lines.push("");
  return lines.join("\n");
}

/**
 * A live media playlist (`#EXT-X-PLAYLIST-TYPE:EVENT`): segments are only ever appended, and
 * `#EXT-X-ENDLIST` is added once the stream has ended, when it plays as VOD. The target duration is
 * fixed for the whole stream (players reject a playlist whose target changes).
 */
export function eventPlaylist(segments: readonly (PlaylistSegment & { discontinuity?: boolean })[], pieceUrlPrefix: string, options: { targetDuration: number; ended: boolean }): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(options.targetDuration))}`, "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:EVENT"];
  for (const s of segments) {
    if (s.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
    lines.push(`#EXTINF:${s.duration.toFixed(6)},`, `${pieceUrlPrefix}${s.pieceCid}`);
  }
  if (options.ended) lines.push("#EXT-X-ENDLIST");
  lines.push("");
  return lines.join("\n");
}
