/**
 * Creator profiles (lib/catalog/profile): images re-encoded with sharp and stored as pieces, the
 * profile JSON validated and stored, read back; the URI form; the studio tools' row checks
 * (web/lib/client/distribution.ts).
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { parseEther } from "viem";
import { LocalStore } from "@streamvault/lib/storage";
import { hasErrorCode } from "@streamvault/lib/errors.ts";
import { PROFILE_IMAGE_SIZES, readProfile, storeProfile } from "@streamvault/lib/catalog/profile/store.ts";
import { profilePieceOf, profileProblems, profileUriOf } from "@streamvault/lib/catalog/profile/schema.ts";
import { parseAirdrop, parseDistribution } from "streamvault-web/lib/client/distribution.ts";

const A = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
const B = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";

describe("creator profiles (lib/catalog/profile)", () => {
  let dir: string;
  let store: LocalStore;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "profile-"));
    store = new LocalStore({ dir });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("stores the avatar and banner re-encoded to their boxes, and the profile JSON; reads it back", async () => {
    const png = await sharp({ create: { width: 900, height: 700, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();
    const { pieceCid, profile } = await storeProfile(store, {
      name: "  Nova Sound ",
      bio: "Ambient from the harbour.",
      links: [{ label: "Website", url: "https://nova.example" }],
      avatar: { bytes: new Uint8Array(png) },
      banner: { bytes: new Uint8Array(png) },
    });
    expect(profile).to.include({ version: 1, name: "Nova Sound", bio: "Ambient from the harbour." });
    expect(await readProfile(store, pieceCid)).to.deep.equal(profile);
    const avatar = await sharp(await store.get(profile.avatar!)).metadata();
    expect([avatar.format, avatar.width, avatar.height]).to.deep.equal(["jpeg", PROFILE_IMAGE_SIZES.avatar.width, PROFILE_IMAGE_SIZES.avatar.height]);
    const banner = await sharp(await store.get(profile.banner!)).metadata();
    // never upscaled past the source's shape: cover-cropped to 3:1
    expect([banner.width, banner.height]).to.deep.equal([PROFILE_IMAGE_SIZES.banner.width, PROFILE_IMAGE_SIZES.banner.height]);

    // A later edit keeps the stored avatar by PieceCID and drops the banner.
    const again = await storeProfile(store, { name: "Nova", avatar: { piece: profile.avatar! } });
    expect(again.profile.avatar).to.equal(profile.avatar);
    expect(again.profile.banner).to.equal(undefined);
    expect(again.pieceCid).to.not.equal(pieceCid);
  });

  it("refuses bad input with what to fix: empty name, a link that is not http(s), an unreadable image, a kept image the store lacks", async () => {
    const refused = async (input: Parameters<typeof storeProfile>[1]) => {
      try {
        await storeProfile(store, input);
      } catch (err) {
        return err as Error;
      }
      throw new Error("accepted");
    };
    const empty = await refused({ name: " " });
    expect(hasErrorCode(empty, "bad_input")).to.equal(true);
    expect(empty.message).to.match(/name: the name is empty/);
    expect((await refused({ name: "N", links: [{ label: "x", url: "javascript:alert(1)" }] })).message).to.match(/links\.0\.url: a link must be an http/);
    const junk = await refused({ name: "N", avatar: { bytes: new TextEncoder().encode("not an image at all, just text".repeat(10)) } });
    expect(junk.message).to.match(/the avatar is not a readable image.*use a PNG, JPEG/);
    const gone = await refused({ name: "N", banner: { piece: "bafkzcibcaapao7ekh6vqvmhyqnilf2n3c43i6nkjj3ilbwp3m4j3zjmnx5jnjwy" } });
    expect(hasErrorCode(gone, "not_found") || hasErrorCode(gone, "bad_input")).to.equal(true);
  });

  it("a piece that is not a profile is refused on read", async () => {
    const put = await store.put(new TextEncoder().encode(JSON.stringify({ version: 1, name: "", extra: true }).padEnd(200, " ")));
    try {
      await readProfile(store, put.pieceCid);
      throw new Error("read");
    } catch (err) {
      expect((err as Error).message).to.match(/is not a creator profile/);
    }
  });

  it("profile URIs: the gateway form, and the PieceCID back from it; other URIs name no piece", async () => {
    const cid = "bafkzcibcaapao7ekh6vqvmhyqnilf2n3c43i6nkjj3ilbwp3m4j3zjmnx5jnjwy";
    expect(profileUriOf("http://127.0.0.1:3000/api/", cid)).to.equal(`http://127.0.0.1:3000/api/piece/${cid}`);
    expect(profilePieceOf(`http://127.0.0.1:3000/api/piece/${cid}`)).to.equal(cid);
    expect(profilePieceOf("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")).to.equal(undefined);
    expect(profilePieceOf("")).to.equal(undefined);
    expect(profileProblems({ version: 1, name: "ok", avatar: "not-a-cid" })).to.deep.equal(["avatar: not a PieceCID v2"]);
  });
});

describe("studio tools: distribution and airdrop rows (web/lib/client/distribution.ts)", () => {
  it("parses address, amount rows (CSV header, commas, tabs) and totals them", () => {
    const parsed = parseDistribution(`address,amount\n${A}, 100\n${B.toLowerCase()}\t2.5\n`, parseEther("1000"));
    expect(parsed.ok).to.equal(true);
    if (!parsed.ok) return;
    expect(parsed.value.recipients).to.deep.equal([A, B]);
    expect(parsed.value.amounts).to.deep.equal([parseEther("100"), parseEther("2.5")]);
    expect(parsed.total).to.equal(parseEther("102.5"));
  });

  it("names the row of each problem: bad address, non-positive amount, not a number, past the reserve", () => {
    const parsed = parseDistribution(`0x1234, 5\n${A}, 0\n${A}, -3\n${B}, lots\n${A}, 60\n${B}, 50`, parseEther("100"));
    expect(parsed.ok).to.equal(false);
    if (parsed.ok) return;
    expect(parsed.errors.map((e) => e.message)).to.deep.equal([
      'row 1: "0x1234" is not an address (0x and 40 hex characters)',
      "row 2: the amount must be more than 0",
      "row 3: the amount must be more than 0",
      'row 4: "lots" is not a number of coins',
      "row 6: brings the total past the coins left in your reserve",
    ]);
  });

  it("airdrop: addresses per line or comma; bad ones named; more than the passes left refused", () => {
    expect(parseAirdrop(`${A}\n${B}, ${A}`, 5n)).to.deep.include({ ok: true, value: [A, B, A], total: 3n });
    const bad = parseAirdrop(`${A}\nnope`, 5n);
    expect(bad.ok ? [] : bad.errors.map((e) => e.message)).to.deep.equal(['row 2: "nope" is not an address (0x and 40 hex characters)']);
    const over = parseAirdrop(`${A}\n${B}`, 1n);
    expect(over.ok ? [] : over.errors.map((e) => e.message)).to.deep.equal(["2 passes, but only 1 are left to mint"]);
    expect(parseAirdrop("  \n", 5n)).to.deep.equal({ ok: false, errors: [{ row: 0, message: "add at least one address" }] });
  });
});
