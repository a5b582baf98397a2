/** CSV for exports (RFC 4180, CRLF lines), shared by the studio's earnings download and `streamvault export`. */

/**
 * One CSV field: quoted when it holds a comma, quote or line break. Text that a spreadsheet would
 * run as a formula (a title starting with =, +, -, @, tab or CR) gets a leading apostrophe, as
 * OWASP advises for CSV exports; amounts are never negative, so they never match.
 */
export function csvField(value: string | number | bigint): string {
  let s = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header row and data rows as CSV text. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | bigint)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}
