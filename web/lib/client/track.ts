import type { Address, Hex } from "viem";

/** What the mini player needs of a catalogue item (CatalogItem has all of it). A plain module: server pages build these too. */
export interface PlayerTrack {
  id: Hex;
  title: string;
  artist: string;
  manifestCid: string;
  artworkCid?: string;
  creator: Address;
}

export function toTrack(i: PlayerTrack): PlayerTrack {
  return { id: i.id, title: i.title, artist: i.artist, manifestCid: i.manifestCid, artworkCid: i.artworkCid, creator: i.creator };
}
