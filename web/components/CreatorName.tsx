/**
 * A creator as pages name them: the profile name, else the coin's name (both resolved on the server,
 * `lib/server/profiles.ts`), else the short address styled as an address; never the full address.
 */
import { shortAddress } from "@/lib/client/format";

export function CreatorName({ address, name, className }: { address: string; name?: string | null; className?: string }) {
  return name ? (
    <span className={className} data-testid="creator-name" title={address}>{name}</span>
  ) : (
    <code className={`address ${className ?? ""}`} data-testid="creator-name" title={address}>{shortAddress(address)}</code>
  );
}
