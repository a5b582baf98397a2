/** `stream-price <contentId> <amount>`: set (or withdraw, with 0) an item's pay-per-minute price on PaymentChannels. */
import { getAddress, isAddress, parseUnits, zeroAddress } from "viem";
import { readContent, setStreamPrice } from "@streamvault/lib/catalog/chain/content.ts";
import { CliError, EXIT, openChain, parseContentId, toJson, tokenDecimals } from "../context.ts";
import type { GlobalOptions } from "../context.ts";

interface StreamPriceOptions extends GlobalOptions {
  token?: string;
  json?: boolean;
}

export async function streamPriceCommand(id: string, amount: string, opts: StreamPriceOptions): Promise<number> {
  const contentId = parseContentId(id);
  const tokenText = opts.token ?? "native";
  if (tokenText !== "native" && !isAddress(tokenText)) throw new CliError(`--token must be "native" or a 0x address, not "${tokenText}"`, "bad_input");
  const token = tokenText === "native" ? zeroAddress : getAddress(tokenText);
  const chain = await openChain(opts);
  const item = await readContent(chain, contentId);
  if (item === undefined) throw new CliError(`content ${contentId} is not registered on this chain (see \`streamvault list\`)`, "not_found");
  if (item.creator.toLowerCase() !== chain.account.address.toLowerCase()) {
    throw new CliError(`content ${contentId} belongs to ${item.creator}: set CREATOR_PRIVATE_KEY to that creator's key`, "bad_input");
  }
  let ratePerMinute: bigint;
  try {
    ratePerMinute = parseUnits(amount, await tokenDecimals(chain, token));
  } catch (err) {
    throw new CliError(`price per minute "${amount}" is not a decimal amount (${(err as Error).message})`, "bad_input");
  }
  if (ratePerMinute < 0n || ratePerMinute >= 1n << 96n) throw new CliError(`price per minute ${amount} is out of range (uint96)`, "bad_input");
  let txHash: string | undefined;
  try {
    txHash = await setStreamPrice(chain, contentId, token, ratePerMinute);
  } catch (err) {
    throw new CliError(`setStreamPrice failed: ${(err as Error).message.split("\n")[0]}`, "unavailable");
  }
  const result = { contentId, token, ratePerMinute: ratePerMinute.toString(), offered: ratePerMinute > 0n, changed: txHash !== undefined, txHash };
  if (opts.json) console.log(toJson(result));
  else if (txHash === undefined) console.log(`${contentId}: already ${ratePerMinute > 0n ? `${amount} per minute` : "not offered per minute"}; nothing sent`);
  else console.log(`${contentId}: ${ratePerMinute > 0n ? `${amount} per minute` : "no longer offered per minute"} (tx ${txHash})`);
  return EXIT.OK;
}
