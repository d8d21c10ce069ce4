#!/usr/bin/env bash
# A one-node Ceph RADOS Gateway (a real S3 server) for tests, everything under one data folder.
#
#   scripts/rgw.sh start  [DIR]   start it (the first start creates the cluster; later starts reuse it)
#   scripts/rgw.sh stop   [DIR]   stop the daemons (the data stays)
#   scripts/rgw.sh status [DIR]   exit 0 when the gateway answers
#   scripts/rgw.sh env    [DIR]   print the `export AREYOUACAT_TEST_S3_...` lines
#
# `start` prints the env lines on stdout (progress goes to stderr), so `eval "$(scripts/rgw.sh start)"` works.
# Needs the Debian packages radosgw ceph-mon ceph-osd and root. One monitor, one OSD (BlueStore on a sparse
# file), one gateway, authentication off, no manager. DIR defaults to $AREYOUACAT_RGW_DIR or
# ${TMPDIR:-/tmp}/areyouacat-rgw. Ports: AREYOUACAT_RGW_PORT (7480), AREYOUACAT_RGW_MON_PORT (6789).
set -Eeuo pipefail

cmd="${1:-}"
dir="${2:-${AREYOUACAT_RGW_DIR:-${TMPDIR:-/tmp}/areyouacat-rgw}}"
port="${AREYOUACAT_RGW_PORT:-7480}"
mon_port="${AREYOUACAT_RGW_MON_PORT:-6789}"
# Fixed test credentials: this gateway listens on loopback only and holds throwaway test data.
access_key="areyouacat-test"
secret_key="areyouacat-test-secret-key"
fsid="5d4c3f9e-7d38-4a8e-9b3c-0a1b2c3d4e5f"
conf="$dir/ceph.conf"
endpoint="http://127.0.0.1:$port"

log() { echo "rgw: $*" >&2; }
trap 'echo "rgw: error: \"$BASH_COMMAND\" failed (line $LINENO); logs in $dir/log" >&2' ERR
die() { echo "rgw: error: $*" >&2; exit 1; }

print_env() {
  echo "export AREYOUACAT_TEST_S3_ENDPOINT=$endpoint"
  echo "export AREYOUACAT_TEST_S3_ACCESS_KEY_ID=$access_key"
  echo "export AREYOUACAT_TEST_S3_SECRET_ACCESS_KEY=$secret_key"
  echo "export AREYOUACAT_TEST_S3_REGION=us-east-1"
}

answers() { curl -s -o /dev/null --max-time 2 "$endpoint/"; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
  mkdir -p "$dir"/{run,log,mon,osd/ceph-0,rgw}
  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon initial members = a
mon host = v1:127.0.0.1:$mon_port
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
keyring = $dir/keyring
run dir = $dir/run
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
crash dir = $dir/log/crash
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd objectstore = bluestore

[osd]
bluestore block path = $dir/osd/\$cluster-\$id.block
bluestore block create = true
bluestore block size = 10737418240
osd memory target = 536870912
bluestore cache autotune = false
bluestore cache size = 134217728

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
EOF
}

create_cluster() {
  log "creating a new cluster in $dir"
  stop >/dev/null 2>&1  # leftovers of an interrupted first start
  rm -rf "$dir/mon" "$dir/osd" "$dir/keyring" "$dir/monmap" "$dir/run" "$dir/created"
  write_conf
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
  ceph-mon -c "$conf" -i a >>"$dir/log/daemons.log" 2>&1
  wait_mon
  local uuid id
  uuid="$(cat /proc/sys/kernel/random/uuid)"
  id="$(ceph -c "$conf" --connect-timeout 30 osd new "$uuid")"
  [ "$id" = 0 ] || die "expected osd id 0, got '$id'"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" 2>>"$dir/log/mkfs.log" ||
    die "ceph-osd --mkfs failed; see $dir/log/osd.0.log"
  start_osd
  wait_osd_up
  radosgw -c "$conf" -n client.rgw >>"$dir/log/daemons.log" 2>&1
  wait_answers
  radosgw-admin -c "$conf" user create --uid=areyouacat --display-name="areyouacat tests" \
    --access-key="$access_key" --secret-key="$secret_key" >/dev/null
  touch "$dir/created"
}

# The OSD sometimes talks to the monitor before it knows the cluster id and exits ("wrong fsid"): try again.
start_osd() {
  for _ in 1 2 3 4 5; do
    if ceph-osd -c "$conf" -i 0 >>"$dir/log/daemons.log" 2>&1; then return 0; fi
    log "ceph-osd did not start; retrying"
    sleep 2
  done
  die "ceph-osd does not start; see $dir/log/osd.0.log"
}

wait_mon() {
  for _ in $(seq 1 120); do
    if ceph -c "$conf" --connect-timeout 5 mon stat >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "the monitor does not answer; see $dir/log/mon.a.log"
}

wait_osd_up() {
  for _ in $(seq 1 120); do
    if ceph -c "$conf" --connect-timeout 5 osd stat 2>/dev/null | grep -q '1 up'; then return 0; fi
    sleep 0.5
  done
  die "the OSD did not come up; see $dir/log/osd.0.log"
}

wait_answers() {
  for _ in $(seq 1 120); do
    if answers; then return 0; fi
    sleep 0.5
  done
  die "radosgw does not answer on $endpoint; see $dir/log/client.rgw.log"
}

start() {
  command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null ||
    die "needs the Debian packages radosgw ceph-mon ceph-osd"
  if answers && pid_alive "$dir/run/client.rgw.pid"; then
    log "already running on $endpoint"
    print_env
    return 0
  fi
  if ! pid_alive "$dir/run/client.rgw.pid" && answers; then
    die "port $port is taken by another server; pick another with AREYOUACAT_RGW_PORT"
  fi
  if ! pid_alive "$dir/run/mon.a.pid" && (exec 3<>"/dev/tcp/127.0.0.1/$mon_port") 2>/dev/null; then
    die "port $mon_port is taken (another Ceph monitor?); pick another with AREYOUACAT_RGW_MON_PORT"
  fi
  local t0=$SECONDS
  if [ ! -f "$dir/created" ]; then
    create_cluster
  else
    write_conf
    pid_alive "$dir/run/mon.a.pid" || ceph-mon -c "$conf" -i a >>"$dir/log/daemons.log" 2>&1
    pid_alive "$dir/run/osd.0.pid" || start_osd
    wait_osd_up
    pid_alive "$dir/run/client.rgw.pid" || radosgw -c "$conf" -n client.rgw >>"$dir/log/daemons.log" 2>&1
    wait_answers
  fi
  log "running on $endpoint (started in $((SECONDS - t0)) s, data in $dir)"
  print_env
}

stop_one() {
  local pidfile="$dir/run/$1.pid"
  pid_alive "$pidfile" || return 0
  local pid
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  log "$1 (pid $pid) did not stop; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  stop_one client.rgw
  stop_one osd.0
  stop_one mon.a
  log "stopped"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status)
    if answers; then log "running on $endpoint"; else log "not running"; exit 1; fi ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env [DIR]" >&2; exit 2 ;;
esac
