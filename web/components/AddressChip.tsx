"use client";
/**
 * An address as people read it: a name when there is one, else the short form (0x1234…abcd), with a
 * button that copies the full address. The full address is only in the copy and the tooltip.
 */
import { useState } from "react";
import { shortAddress } from "@/lib/client/format";

export function AddressChip({ address, name }: { address: string; name?: string | null }) {
  const [copied, setCopied] = useState<"" | "copied" | "failed">("");
  const copy = () =>
    navigator.clipboard.writeText(address).then(
      () => setCopied("copied"),
      () => setCopied("failed"),
    );
  return (
    <span className="address-chip" data-testid="address-chip" title={address}>
      {name ? (
        <>
          <b>{name}</b> <code className="muted small">{shortAddress(address)}</code>
        </>
      ) : (
        <code>{shortAddress(address)}</code>
      )}{" "}
      <button type="button" className="btn small" onClick={() => void copy()} aria-label={`Copy address ${shortAddress(address)}`} data-testid="copy-address">
        {copied === "copied" ? "Copied" : copied === "failed" ? "Copy failed" : "Copy"}
      </button>
    </span>
  );
}
