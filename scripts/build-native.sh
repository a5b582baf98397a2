#!/bin/sh
# Builds the native PieceCID addon (lib/piece/native) with node-gyp; runs as the package's npm `install`
# script. Never fails the install: without a compiler (or on another OS) lib/piece uses its portable
# JavaScript path, and `npm run bench:piece` / tests report which path is active.
cd "$(dirname "$0")/.." || exit 0
gyp="node_modules/.bin/node-gyp"
[ -x "$gyp" ] || gyp="$(command -v node-gyp || true)"
if [ -z "$gyp" ]; then
  echo "build-native: node-gyp not found; PieceCID uses the portable path" >&2
  exit 0
fi
# Offline: build against headers already on the machine (N-API is ABI-stable across Node versions).
set --
if [ -z "${npm_config_nodedir:-}" ]; then
  for dir in "$(dirname "$(dirname "$(command -v node)")")" /usr /usr/local; do
    if [ -f "$dir/include/node/node_api.h" ]; then set -- "--nodedir=$dir"; break; fi
  done
fi
if "$gyp" rebuild --directory=lib/piece/native --loglevel=error "$@" >/tmp/streamvault-build-native.log 2>&1; then
  echo "build-native: built lib/piece/native/build/Release/piece_cid.node"
else
  echo "build-native: native PieceCID addon not built (see /tmp/streamvault-build-native.log); the portable path is used" >&2
fi
exit 0
