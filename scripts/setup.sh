#!/usr/bin/env bash
# One-command install on a fresh machine whose system Node is 20 (see README).
# - Node 22 comes from npm (the `node` devDependency); the first `npm install` runs under Node 20 and
#   skips Node-22-only optional natives (Hardhat's EDR engine), so a second pass runs under Node 22.
# - System tools from Debian when we are root and they are missing: ffmpeg (media pipeline; an
#   npm-shipped ffmpeg is the fallback), chromium (browser tests) and PostgreSQL (only for the
#   optional Postgres test runs); Ceph's mon, osd and radosgw without recommends (the S3 backend's
#   tests start a real RADOS Gateway, test/storage/ceph.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
command -v ffmpeg >/dev/null 2>&1 || want+=(ffmpeg)
command -v pg_ctlcluster >/dev/null 2>&1 || want+=(postgresql)
[ -x /usr/bin/chromium ] || want+=(chromium)
lean=()
{ command -v ceph-mon && command -v ceph-osd && command -v radosgw; } >/dev/null 2>&1 || lean+=(ceph-mon ceph-osd radosgw)
if [ $((${#want[@]} + ${#lean[@]})) -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${want[*]} ${lean[*]} from Debian"
    apt-get update -qq
    [ ${#want[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null
    [ ${#lean[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
  else
    echo "setup: ${want[*]} ${lean[*]} not installed and not root; npm-shipped ffmpeg is used, Postgres, browser and S3 (Ceph) tests need them"
  fi
fi

npm_install() { npm install --no-audit --no-fund --loglevel=error "$@"; }

echo "setup: npm install (pass 1, system node $(node --version))"
npm_install # the whole workspace: lib, sdk, web and indexer (one lockfile)
export PATH="$PWD/node_modules/.bin:$PATH"
echo "setup: npm install (pass 2, node $(node --version))"
npm_install
echo "setup: compiling contracts"
npm run --silent build
echo "setup: done. Run \`npm test\` for the tests, \`npm run dev\` for the local stack."
