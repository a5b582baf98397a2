/**
 * `npm run chain`: a local anvil node (shipped inside the @foundry-rs/anvil npm package) on
 * 127.0.0.1, chain id 31337. PORT overrides 8545; CHAIN_STATE=path keeps the chain across restarts.
 */
import { startAnvil } from "@streamvault/lib/chain/anvil.ts";

const port = Number(process.env.PORT ?? 8545);
const node = await startAnvil({ port, statePath: process.env.CHAIN_STATE, quiet: false });
console.log(`anvil listening on ${node.rpcUrl} (chain id 31337). Ctrl-C to stop.`);
const stop = async () => {
  await node.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
