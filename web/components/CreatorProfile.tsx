/** A creator's profile as the creator page shows it: banner, avatar, name, bio and links (`lib/catalog/profile`). */
import type { Profile } from "@streamvault/lib/catalog/profile/schema.ts";
import { CreatorName } from "./CreatorName";

export function Avatar({ cid, name, size = 96 }: { cid?: string; name: string; size?: number }) {
  if (!cid) return <span className="avatar" style={{ width: size, height: size, fontSize: size / 2.5 }} aria-hidden>{name.replace(/^0x/, "").slice(0, 1).toUpperCase()}</span>;
  // eslint-disable-next-line @next/next/no-img-element
  return <img className="avatar" src={`/api/piece/${cid}`} alt={`${name}'s avatar`} width={size} height={size} data-testid="creator-avatar" />;
}

export function ProfileHeader({ address, profile, name, subtitle }: { address: string; profile: Profile | null; name: string | null; subtitle: React.ReactNode }) {
  return (
    <header className="profile-head" data-testid="creator-profile">
      {profile?.banner ? (
        // eslint-disable-next-line @next/next/no-img-element
        <img className="profile-banner" src={`/api/piece/${profile.banner}`} alt="" data-testid="creator-banner" />
      ) : (
        <div className="profile-banner" aria-hidden />
      )}
      <div className="profile-id">
        <Avatar cid={profile?.avatar} name={name ?? address} />
        <div>
          <h1 style={{ margin: 0 }}>
            <CreatorName address={address} name={name} />
          </h1>
          <p className="muted small" style={{ margin: "4px 0 0" }}>{subtitle}</p>
        </div>
      </div>
      {profile?.bio && <p className="profile-bio" data-testid="creator-bio">{profile.bio}</p>}
      {profile && profile.links.length > 0 && (
        <ul className="profile-links" data-testid="creator-links">
          {profile.links.map((l) => (
            <li key={l.url}>
              <a href={l.url} rel="noopener noreferrer nofollow" target="_blank">{l.label}</a>
            </li>
          ))}
        </ul>
      )}
    </header>
  );
}
