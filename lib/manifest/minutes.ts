/**
 * Segment -> minute window mapping of minute-keyed variants (lib/crypto/minute.ts): minute m
 * holds the segments whose start time lies in [60 m, 60 m + 60). Start times are sums of the
 * previous segments' durations, rounded to whole microseconds so that float sums like
 * 59.99999999 land where the encoder meant them. No dependencies: the browser may import it.
 */

/** Microseconds per key window (60 s). */
const WINDOW_US = 60_000_000;

/**
 * The minute window of each segment, given the segments' durations in order (seconds) and where the
 * first one starts on the item's timeline (an album track: the sum of the tracks before it).
 */
export function segmentMinutes(durations: readonly number[], startSeconds = 0): number[] {
  let start = startSeconds;
  return durations.map((duration) => {
    const minute = Math.floor(Math.round(start * 1e6) / WINDOW_US);
    start += duration;
    return minute;
  });
}
