/** Key-release rate limits from the environment (what the web app passes its service). */
import { expect } from "chai";
import { DEFAULT_KEY_RELEASE_RATE_LIMITS, keyReleaseRateLimitsFromEnv } from "@streamvault/lib/keyrelease/ratelimit.ts";

describe("key-release rate limits from the environment", () => {
  it("keeps the defaults when nothing is set", () => {
    expect(keyReleaseRateLimitsFromEnv({})).to.deep.equal(DEFAULT_KEY_RELEASE_RATE_LIMITS);
    expect(DEFAULT_KEY_RELEASE_RATE_LIMITS).to.deep.equal({ wallet: { points: 60, durationSeconds: 60 }, ip: { points: 300, durationSeconds: 60 } });
  });

  it("reads the per-wallet and per-address limits and their window", () => {
    expect(keyReleaseRateLimitsFromEnv({ KEYRELEASE_WALLET_RATE_LIMIT: "12", KEYRELEASE_IP_RATE_LIMIT: " 5000 ", KEYRELEASE_RATE_WINDOW: "30" })).to.deep.equal({
      wallet: { points: 12, durationSeconds: 30 },
      ip: { points: 5000, durationSeconds: 30 },
    });
  });

  it("refuses a value that is not a positive whole number, naming the setting", () => {
    expect(() => keyReleaseRateLimitsFromEnv({ KEYRELEASE_WALLET_RATE_LIMIT: "0" })).to.throw('KEYRELEASE_WALLET_RATE_LIMIT must be a positive whole number, not "0"');
    expect(() => keyReleaseRateLimitsFromEnv({ KEYRELEASE_RATE_WINDOW: "1.5" })).to.throw(/KEYRELEASE_RATE_WINDOW must be a positive whole number/);
  });
});
