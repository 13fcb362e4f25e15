#!/usr/bin/env bash
# Berth's first-use demo. It starts a registry on loopback and pushes a busybox image built from
# Debian's busybox-static. Then it starts berthd in temporary directories, pulls the image, runs
# a pod whose container prints a line, shows that line from the container's log, and removes
# everything. Run as root after building: deploy/demo.sh [BUILD_DIR] (default: build).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/build}" && pwd)/bin
for binary in berthd berthctl berth-shim berth-pause; do
  [[ -x $bin/$binary ]] || { echo "demo: $bin/$binary is missing: build first" >&2; exit 1; }
done

work=$(mktemp -d /tmp/berth-demo.XXXXXX)
registry_pid=""
berthd_pid=""
socket="$work/state/berth.sock"
ctl() { "$bin/berthctl" --runtime-endpoint "unix://$socket" "$@"; }

# Runs on every exit, Ctrl-C included: pods first, while berthd still serves, then the servers.
cleanup() {
  set +e
  trap - INT TERM
  if [[ -n $berthd_pid ]]; then
    ctl rmp --force --all > /dev/null 2>&1
    kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null
  fi
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n==> %s\n' "$*"; }

# A free loopback port for the registry: a random one that nothing listens on.
for _ in $(seq 50); do
  port=$((20000 + RANDOM % 20000))
  ss -Hltn "sport = :$port" | grep -q . || break
done

step "starting docker-registry on 127.0.0.1:$port"
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry/data
http:
  addr: 127.0.0.1:$port
YAML
# setsid keeps the servers out of the terminal's process group, so Ctrl-C reaches only this
# script, and cleanup() can still remove the pods through berthd.
setsid /usr/bin/docker-registry serve "$work/registry/config.yml" > "$work/registry/log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" > /dev/null 2>&1 && break
  sleep 0.1
done

image="127.0.0.1:$port/demo/busybox:1.0"
step "building and pushing $image"
"$top/deploy/make-test-image.sh" "$image"

step "starting berthd"
setsid "$bin/berthd" --root "$work/root" --state "$work/state" --listen "$socket" \
  --log-level info > "$work/berthd.log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do
  ctl version > /dev/null 2>&1 && break
  sleep 0.1
done
ctl version

step "berthctl pull $image"
ctl pull "$image"
ctl images

cat > "$work/pod.json" <<JSON
{
  "metadata": {"name": "demo", "namespace": "default", "uid": "demo-uid-1", "attempt": 0},
  "hostname": "demo-pod",
  "log_directory": "$work/logs"
}
JSON
cat > "$work/container.json" <<JSON
{
  "metadata": {"name": "hello"},
  "image": {"image": "$image"},
  "command": ["sh", "-c", "echo hello from \$(hostname)"],
  "log_path": "hello.log"
}
JSON

step "berthctl runp, create, start"
pod=$(ctl runp "$work/pod.json")
container=$(ctl create "$pod" "$work/container.json" "$work/pod.json")
ctl start "$container"
for _ in $(seq 50); do
  ctl inspect "$container" | grep -q '"CONTAINER_EXITED"' && break
  sleep 0.1
done
ctl ps -a

step "berthctl logs $container"
ctl logs "$container"
echo "(raw log file: $(head -c 200 "$work/logs/hello.log"))"

step "removing everything"
ctl stop "$container" > /dev/null
ctl rm "$container"
ctl stopp "$pod"
ctl rmp "$pod"
ctl rmi "$image"
ctl pods
echo
echo "demo finished"
