#!/usr/bin/env bash
# One-command install on a fresh machine whose system Node is 20 (see README).
# - Node 22 comes from npm (the `node` devDependency); the first `npm install` runs under Node 20 and
#   skips Node-22-only optional natives (Hardhat's EDR engine), so a second pass runs under Node 22.
# - System tools from Debian when we are root and they are missing: ffmpeg (media pipeline; an
#   npm-shipped ffmpeg is the fallback), chromium (browser tests) and PostgreSQL (only for the
#   optional Postgres test runs).
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
command -v ffmpeg >/dev/null 2>&1 || want+=(ffmpeg)
command -v pg_ctlcluster >/dev/null 2>&1 || want+=(postgresql)
[ -x /usr/bin/chromium ] || want+=(chromium)
if [ ${#want[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${want[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null
  else
    echo "setup: ${want[*]} not installed and not root; npm-shipped ffmpeg is used, Postgres and browser tests need them"
  fi
fi

npm_install() { npm install --no-audit --no-fund --loglevel=error "$@"; }

echo "setup: npm install (pass 1, system node $(node --version))"
npm_install
export PATH="$PWD/node_modules/.bin:$PATH"
echo "setup: npm install (pass 2, node $(node --version))"
npm_install
for app in indexer web; do
  if [ -f "$app/package.json" ]; then
    echo "setup: $app dependencies"
    (cd "$app" && npm_install)
  fi
done
echo "setup: compiling contracts"
npm run --silent build
echo "setup: done. Run \`npm test\` for the tests, \`npm run dev\` for the local stack."
