"use client";
/**
 * The creator's profile editor: name, avatar, banner, bio, links. The server re-encodes the images
 * and stores them and the profile JSON as pieces (a request signed by the creator's wallet), then the
 * wallet points `CreatorRegistry.setProfileURI` at the stored profile.
 */
import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useConfig, useSignMessage } from "wagmi";
import { writeContract } from "wagmi/actions";
import type { Address } from "viem";
import { PROFILE_VERSION, profileProblems, type Profile } from "@streamvault/lib/browser";
import { signRequest } from "@streamvault/lib/signed-request/message.ts";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { useTx } from "@/lib/client/useTx";
import { TxStatus } from "./TxStatus";

/** Largest image the server takes (it re-encodes it to at most 1500 px). */
const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

/** "Label https://…" per line -> links; a line that is only a URL is labelled with its host. */
function parseLinks(text: string): { label: string; url: string }[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const m = /^(.*?)\s*(\S+:\/\/\S+)$/.exec(line);
      if (!m) return { label: line, url: "" };
      const url = m[2]!;
      return { label: m[1] || url.replace(/^\w+:\/\/(www\.)?/, "").split("/")[0]!, url };
    });
}

const linksText = (p: Profile | null) => (p?.links ?? []).map((l) => `${l.label} ${l.url}`).join("\n");

async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function StudioProfile({ creator }: { creator: Address }) {
  const wagmi = useConfig();
  const { chainId } = useAppConfig();
  const contract = useContracts();
  const { signMessageAsync } = useSignMessage();
  const current = useQuery({
    queryKey: ["profile", creator],
    queryFn: async () => (await (await fetch(`/api/profile/${creator}`)).json()) as { profileUri: string; profile: Profile | null },
  });
  const [name, setName] = useState("");
  const [bio, setBio] = useState("");
  const [links, setLinks] = useState("");
  const [avatar, setAvatar] = useState<File | null>(null);
  const [banner, setBanner] = useState<File | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [storing, setStoring] = useState(false);
  const tx = useTx(() => void current.refetch());
  const profile = current.data?.profile ?? null;
  useEffect(() => {
    setName(profile?.name ?? "");
    setBio(profile?.bio ?? "");
    setLinks(linksText(profile));
  }, [profile]);
  const busy = storing || tx.state.status === "wallet" || tx.state.status === "pending";

  async function save() {
    const draft = { version: PROFILE_VERSION, name, bio, links: parseLinks(links) };
    const problems = [...profileProblems(draft)];
    for (const [kind, file] of [["avatar", avatar], ["banner", banner]] as const) {
      if (file && !file.type.startsWith("image/")) problems.push(`${kind}: ${file.name} is not an image (use PNG, JPEG, WebP or GIF)`);
      if (file && file.size > MAX_IMAGE_BYTES) problems.push(`${kind}: ${file.name} is over 8 MiB`);
    }
    setErrors(problems);
    if (problems.length) return;
    const image = async (file: File | null, kept?: string) => (file ? { data: await base64Of(file) } : kept ? { piece: kept } : undefined);
    const body = JSON.stringify({ name: draft.name, bio: draft.bio, links: draft.links, avatar: await image(avatar, profile?.avatar), banner: await image(banner, profile?.banner) });
    let signed: Record<string, string>;
    try {
      signed = await signRequest("profile", creator, body, (args) => signMessageAsync(args));
    } catch {
      return setErrors(["Saving the profile needs your wallet's signature."]);
    }
    setStoring(true);
    let uri: string;
    try {
      const res = await fetch(`/api/studio/${creator}/profile`, { method: "POST", headers: { "content-type": "application/json", ...signed }, body });
      const answer = (await res.json().catch(() => ({}))) as { uri?: string; message?: string; error?: string };
      if (!res.ok || !answer.uri) return setErrors([answer.message ?? answer.error ?? `the server could not store the profile (${res.status})`]);
      uri = answer.uri;
    } finally {
      setStoring(false);
    }
    const ok = await tx.run("Save profile", () => writeContract(wagmi, { ...contract("CreatorRegistry"), functionName: "setProfileURI", args: [uri], chainId }));
    if (ok) {
      setAvatar(null);
      setBanner(null);
    }
  }

  return (
    <section aria-labelledby="profile-h" data-testid="studio-profile">
      <h2 id="profile-h">Profile</h2>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label>
          Name fans see
          <input name="profileName" value={name} onChange={(e) => setName(e.target.value)} maxLength={64} placeholder="Your artist name" />
        </label>
        <label>
          Avatar (square; shown round){profile?.avatar && !avatar ? " · keeps the current one unless you choose another" : ""}
          <input type="file" accept="image/*" name="avatar" onChange={(e) => setAvatar(e.target.files?.[0] ?? null)} data-testid="profile-avatar" />
        </label>
        <label>
          Banner (wide, 3:1){profile?.banner && !banner ? " · keeps the current one unless you choose another" : ""}
          <input type="file" accept="image/*" name="banner" onChange={(e) => setBanner(e.target.files?.[0] ?? null)} data-testid="profile-banner" />
        </label>
        <label>
          Bio
          <textarea name="bio" rows={3} value={bio} onChange={(e) => setBio(e.target.value)} maxLength={1000} />
        </label>
        <label>
          Links (one per line: label https://…)
          <textarea name="links" rows={2} value={links} onChange={(e) => setLinks(e.target.value)} placeholder="Website https://example.com" />
        </label>
        {errors.length > 0 && (
          <ul className="row-errors field-error small" role="alert" data-testid="profile-errors">
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        )}
        <p>
          <button className="btn primary" type="submit" disabled={busy} data-testid="profile-save">
            {storing ? "Storing images…" : "Save profile"}
          </button>
        </p>
      </form>
      <TxStatus state={tx.state} />
    </section>
  );
}
