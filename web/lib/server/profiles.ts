/**
 * Creator profiles as pages show them: each creator's `profileURI` (the indexer's `creator.profileUri`,
 * or `CreatorRegistry.profileURI` on chain when the indexer is down or lacks the creator), and the
 * profile JSON piece it names, read from the piece store and validated. Small caches: a URI for
 * 5 s (a new profile shows within seconds), a profile by PieceCID for good (pieces never change),
 * at most 1,000 of each. A URI that names no piece of this store (`ipfs://…`, any other URL) has no
 * profile here: the server never fetches addresses a creator typed.
 */
import { createPublicClient, http, type Address } from "viem";
import type { Profile } from "@streamvault/lib/catalog/profile/schema.ts";
import { profilePieceOf } from "@streamvault/lib/catalog/profile/schema.ts";
import { RPC_URL, contract } from "./config.ts";
import { indexerGraphql } from "./indexer.ts";
import { pieceStore } from "./store.ts";

export interface CreatorProfile {
  creator: Address;
  profileUri: string;
  profile: Profile | null;
}

const URI_TTL_MS = 5_000;
const MAX_ENTRIES = 1_000;
const uris = new Map<string, { uri: string; at: number }>();
const profiles = new Map<string, Promise<Profile | null>>();

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
  map.set(key, value);
}

function profileLib(): Promise<typeof import("@streamvault/lib/catalog/profile/store.ts")> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/profile/store.ts");
}

async function profileUris(creators: Address[]): Promise<Map<string, string>> {
  const now = Date.now();
  const out = new Map<string, string>();
  const wanted = creators.filter((c) => {
    const hit = uris.get(c);
    if (hit && now - hit.at < URI_TTL_MS) out.set(c, hit.uri);
    return !out.has(c);
  });
  if (wanted.length === 0) return out;
  try {
    const data = await indexerGraphql<{ creators: { items: { id: string; profileUri: string }[] } }>(
      `query($ids: [String!]) { creators(where: { id_in: $ids }, limit: 1000) { items { id profileUri } } }`,
      { ids: wanted },
    );
    for (const row of data.creators.items) out.set(row.id.toLowerCase(), row.profileUri);
  } catch {
    // indexer down: the chain answers below
  }
  const client = createPublicClient({ transport: http(RPC_URL, { timeout: 8000 }) });
  const registry = contract("CreatorRegistry");
  await Promise.all(
    wanted
      .filter((c) => !out.has(c))
      .map(async (c) => out.set(c, await client.readContract({ ...registry, functionName: "profileURI", args: [c] }).catch(() => ""))),
  );
  for (const c of wanted) remember(uris, c, { uri: out.get(c) ?? "", at: now });
  return out;
}

function profileAt(uri: string): Promise<Profile | null> {
  const cid = profilePieceOf(uri);
  if (!cid) return Promise.resolve(null);
  let hit = profiles.get(cid);
  if (!hit) {
    hit = Promise.all([profileLib(), pieceStore()])
      .then(([lib, store]) => lib.readProfile(store, cid))
      .catch((err: Error) => {
        // Not cached: a piece that shows up later (a slow backend) is read then.
        profiles.delete(cid);
        console.warn(`profile ${cid}: ${err.message}`);
        return null;
      });
    remember(profiles, cid, hit);
  }
  return hit;
}

/** Each creator's profile (null when it has none this server can read), by lower-case address. */
export async function creatorProfiles(creators: readonly string[]): Promise<Map<Address, CreatorProfile>> {
  const unique = [...new Set(creators.map((c) => c.toLowerCase() as Address))];
  const found = await profileUris(unique);
  const rows = await Promise.all(unique.map(async (creator) => ({ creator, profileUri: found.get(creator) ?? "", profile: await profileAt(found.get(creator) ?? "") })));
  return new Map(rows.map((r) => [r.creator, r]));
}

/** The name a page shows for an address: the profile's name, else the coin's name, else null (show the short address). */
export function displayName(profile: CreatorProfile | undefined, coinName?: string | null): string | null {
  return profile?.profile?.name || coinName || null;
}
