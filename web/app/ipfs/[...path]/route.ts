/**
 * IPFS path/trustless gateway: `GET/HEAD /ipfs/<cid>[/path]` over the `ipfs` backend's Helia node
 * (lib/storage/ipfs/gateway.ts createIpfsGatewayRoute: every block checked against its CID, Range,
 * `Accept: application/vnd.ipld.raw|car`). Mounted only when STORAGE_BACKEND names `ipfs`; else a
 * 404 JSON error saying how to enable it. This is what IPFS_GATEWAY_URL (and urlFor) can point at.
 */
import { pieceStore, storageLib } from "@/lib/server/store";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

type Route = (request: Request) => Promise<Response>;
let route: Promise<Route | undefined> | undefined;

function ipfsRoute(): Promise<Route | undefined> {
  route ??= Promise.all([storageLib(), pieceStore()]).then(([lib, store]) => {
    const ipfs = lib.backendNamed(store, "ipfs");
    return ipfs ? lib.createIpfsGatewayRoute(ipfs as InstanceType<typeof lib.IpfsStore>) : undefined;
  });
  route.catch(() => (route = undefined));
  return route;
}

async function serve(request: Request): Promise<Response> {
  const handler = await ipfsRoute();
  if (!handler) {
    return Response.json(
      { error: "no IPFS backend: this server's STORAGE_BACKEND does not include ipfs (e.g. STORAGE_BACKEND=ipfs or local+ipfs), so /ipfs/<cid> is not served" },
      { status: 404 },
    );
  }
  return handler(request);
}

export const GET = serve;
export const HEAD = serve;
export const OPTIONS = serve;
