import type { Address, Hex } from "viem";

/** What the mini player needs of a catalogue item (CatalogItem has all of it). A plain module: server pages build these too. */
export interface PlayerTrack {
  id: Hex;
  title: string;
  artist: string;
  manifestCid: string;
  artworkCid?: string;
  creator: Address;
  /** An album's track number (the item is the album; this entry is one of its tracks) */
  track?: number;
  /** The album's title, on an album track */
  album?: string;
}

/** An album's track as its catalogue row and pages list it. */
export interface AlbumTrack {
  number: number;
  title: string;
  artist?: string;
  duration: number;
}

/** What identifies a queue entry: the item, and for an album the track (one album queues several entries). */
export function trackKey(t: Pick<PlayerTrack, "id" | "track">): string {
  return t.track === undefined ? t.id : `${t.id}#${t.track}`;
}

export function toTrack(i: PlayerTrack): PlayerTrack {
  const t: PlayerTrack = { id: i.id, title: i.title, artist: i.artist, manifestCid: i.manifestCid, artworkCid: i.artworkCid, creator: i.creator };
  if (i.track !== undefined) t.track = i.track;
  if (i.album !== undefined) t.album = i.album;
  return t;
}

/** The queue entries of a catalogue item: one per track of an album, else the item itself. */
export function toTracks(i: PlayerTrack & { tracks?: AlbumTrack[] }): PlayerTrack[] {
  if (!i.tracks?.length) return [toTrack(i)];
  return i.tracks.map((t) => ({ ...toTrack(i), title: t.title, artist: t.artist ?? i.artist, track: t.number, album: i.title }));
}
