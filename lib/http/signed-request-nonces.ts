/**
 * Consumed signed-request nonces in the shared database (PGlite or Postgres, the key-release one in
 * the web app): one INSERT decides the first use, so two instances handed the same signed request
 * at once accept it exactly once.
 */
import type { Address } from "viem";
import type { SqlClient } from "../db/index.ts";
import type { NonceStore } from "./signed-request.ts";

export const SIGNED_REQUEST_NONCES_TABLE = `CREATE TABLE IF NOT EXISTS signed_request_nonces (
  nonce      TEXT PRIMARY KEY,
  wallet     TEXT NOT NULL,
  action     TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
)`;

export class SqlNonceStore implements NonceStore {
  readonly #db: SqlClient;
  #ready: Promise<unknown> | undefined;
  #consumed = 0;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async consume(nonce: string, wallet: Address, action: string, expiresAt: Date): Promise<boolean> {
    this.#ready ??= this.#db.query(SIGNED_REQUEST_NONCES_TABLE).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    await this.#ready;
    const rows = (
      await this.#db.query<{ nonce: string }>(
        "INSERT INTO signed_request_nonces (nonce, wallet, action, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
        [nonce, wallet.toLowerCase(), action, expiresAt],
      )
    ).rows;
    // Expired nonces can no longer pass the time check: forget them now and then.
    if (++this.#consumed % 256 === 0) await this.#db.query("DELETE FROM signed_request_nonces WHERE expires_at < now()");
    return rows.length === 1;
  }
}
