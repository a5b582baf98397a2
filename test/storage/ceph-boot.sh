#!/usr/bin/env bash
# Ceph fixture bootstrap (started by test/storage/ceph.ts): a single-node cluster in $CEPH_DIR,
# mon + memstore osd + radosgw on 127.0.0.1, an S3 user; prints CEPH_READY, then holds until its
# stdin closes (the parent ended it or died); the EXIT trap kills every daemon it started.
set -euo pipefail
D="$CEPH_DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
if [ "$CEPH_NETNS" = 1 ]; then ip link set lo up; fi
mkdir -p "$D/mon/ceph-a" "$D/osd/ceph-0" "$D/run" "$D/log" "$D/rgw"
FSID=$(cat /proc/sys/kernel/random/uuid)
cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail crit = 0
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
mon data = $D/mon/\$cluster-\$id
osd data = $D/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 1073741824
keyring = $D/keyring
[client.rgw.sv]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $D/rgw
CONF
C=(-c "$D/ceph.conf")
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --addv a "[v2:127.0.0.1:$MON_PORT]" --fsid "$FSID" "$D/monmap" >/dev/null
ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap"
ceph-mon "${C[@]}" -i a -f >>"$D/log/daemons.out" 2>&1 & pids+=($!)
ceph "${C[@]}" --connect-timeout 120 osd create >/dev/null
ceph-osd "${C[@]}" -i 0 --mkfs >>"$D/log/daemons.out" 2>&1
ceph-osd "${C[@]}" -i 0 -f >>"$D/log/daemons.out" 2>&1 & pids+=($!)
radosgw "${C[@]}" -n client.rgw.sv -f >>"$D/log/daemons.out" 2>&1 & pids+=($!)
for _ in $(seq 1 1200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$RGW_PORT") 2>/dev/null; then break; fi
  kill -0 "${pids[2]}" 2>/dev/null || { echo "radosgw exited" >&2; exit 1; }
  sleep 0.2
done
radosgw-admin "${C[@]}" user create --uid=streamvault --display-name=streamvault \
  --access-key="$S3_ACCESS" --secret-key="$S3_SECRET" >/dev/null
if [ -n "${RELAY_SOCK:-}" ]; then
  "$NODE_BIN" -e "$RELAY_JS" & pids+=($!)
  for _ in $(seq 1 200); do [ -S "$RELAY_SOCK" ] && break; sleep 0.05; done
  [ -S "$RELAY_SOCK" ] || { echo "relay did not start" >&2; exit 1; }
fi
echo CEPH_READY
while read -r _; do :; done
# Parent gone or done: the temp dir goes too (a failed bootstrap keeps it for its logs).
cleanup
rm -rf "$D"
