/**
 * What an album's content id is made from, with no Node imports so the studio (browser) and the
 * server/CLI (node:crypto) hash the very same bytes: the album's SHA-256 is the SHA-256 of this
 * text, its tracks' SHA-256s in track order (same tracks, same order: the same item on a re-run).
 */
export function albumHashInput(trackSha256s: readonly string[]): string {
  return ["streamvault/album/v1", ...trackSha256s.map((h) => h.toLowerCase())].join("\n");
}
