/** PieceCID string (multibase base32, "b…") -> CID bytes as 0x-hex, the form ContentAccess stores. */
export function toBytesHex(cid: string): `0x${string}` {
  if (!cid.startsWith("b")) throw new Error("expected a base32 CID");
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let value = 0;
  let out = "0x";
  for (const ch of cid.slice(1)) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error("invalid base32 character");
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out += ((value >>> (bits - 8)) & 0xff).toString(16).padStart(2, "0");
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return out as `0x${string}`;
}
