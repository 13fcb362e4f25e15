#!/usr/bin/env bash
# Measures what the RuntimeDefault seccomp profile costs a container start: the median of N
# CreateContainer + StartContainer pairs with the default profile and default capabilities,
# against the same container without seccomp (Unconfined).
#
#   bench/create_start.sh [--runs N] [--build DIR] [--out FILE]
#
#   --runs N     timed pairs per variant (default 10)
#   --build DIR  Berth build folder holding bin/ (default: build)
#   --out FILE   also write the figures as JSON to FILE
#
# Run as root. Everything lives under one temporary folder that is removed at the end; the pod
# uses the host network, so no CNI plugin runs. Variants alternate round by round, so a change
# in the machine's load affects both alike.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=10 build="$top/build" out=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0" | cut -c3-; exit 0 ;;
    *) echo "create_start: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ! $runs =~ ^[1-9][0-9]*$ ]]; then
  echo "create_start: invalid --runs $runs: give a positive integer" >&2
  exit 2
fi
bin=$(cd "$build" && pwd)/bin
for tool in "$bin"/{berthd,berthctl,berth-shim,berth-pause} /usr/bin/docker-registry \
  /bin/busybox; do
  [[ -x $tool ]] || { echo "create_start: $tool is missing" >&2; exit 1; }
done
[[ -z $out ]] || out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

work=$(mktemp -d /tmp/berth-bench-seccomp.XXXXXX)
cgroup=$(basename "$work")
daemon_pids=()
bench_name=create_start
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"

# Everything started here ends here, also after a failure: the pod, the daemons by pid, shims
# naming our folder, mounts below it, the cgroups and the folder.
cleanup() {
  set +e
  [[ -S $work/berth/state/berth.sock ]] && bctl rmp -f -a > /dev/null 2>&1
  for pid in "${daemon_pids[@]}"; do stop_pid "$pid"; done
  for proc in /proc/[0-9]*; do
    [[ $(cat "$proc/comm" 2> /dev/null) == *shim* ]] && grep -qsF "$work" "$proc/cmdline" &&
      kill -9 "${proc#/proc/}"
  done
  findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r umount -l
  find /sys/fs/cgroup/*/"$cgroup" -depth -type d -exec rmdir {} + 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# --- registry, image, daemon ---------------------------------------------------------------

mkdir -p "$work/logs"
start_registry
image="$registry/bench/busybox:1.0"
"$top/deploy/make-test-image.sh" "$image" > /dev/null

berth_dir=$work/berth
mkdir -p "$berth_dir/cni"
printf '[network]\nconf_dir = "%s"\n' "$berth_dir/cni" > "$berth_dir/berth.toml"
"$bin/berthd" --config "$berth_dir/berth.toml" --root "$berth_dir/root" \
  --state "$berth_dir/state" --listen "$berth_dir/state/berth.sock" --log-level info \
  > "$work/berthd.log" 2>&1 &
daemon_pids+=($!)
bctl() { timeout 60 "$bin/berthctl" --runtime-endpoint "unix://$berth_dir/state/berth.sock" \
  "$@"; }
wait_for 300 bctl version
bctl pull "$image" > /dev/null

cat > "$work/pod.json" << JSON
{"metadata": {"name": "bench", "namespace": "default", "uid": "bench-uid", "attempt": 0},
 "log_directory": "$work/logs", "linux": {"cgroup_parent": "/$cgroup/pod",
   "security_context": {"namespace_options": {"network": 2}}}}
JSON
# profile_type 0 is RuntimeDefault, 1 Unconfined; the capabilities are the defaults in both.
for variant in runtime-default:0 unconfined:1; do
  cat > "$work/${variant%%:*}.json" << JSON
{"metadata": {"name": "sleeper-${variant%%:*}"}, "image": {"image": "$image"},
 "command": ["sleep", "3600"], "log_path": "${variant%%:*}.log",
 "linux": {"security_context": {"seccomp": {"profile_type": ${variant##*:}}}}}
JSON
done

# --- measuring -----------------------------------------------------------------------------

pod=$(bctl runp "$work/pod.json")

# Times one CreateContainer + StartContainer of variant $1 in microseconds (appended to
# $work/$1.us), checks the seccomp mode the container got, then removes it untimed.
pair() {
  local variant=$1 t0 t1 container mode
  t0=$(date +%s%N)
  container=$(bctl create "$pod" "$work/$variant.json" "$work/pod.json")
  bctl start "$container" > /dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000)) >> "$work/$variant.us"
  # The pod shares one PID namespace, so the container's process is found by its name.
  mode=$(bctl exec -s "$container" sh -c 'grep Seccomp: /proc/$(pidof sleep)/status' |
    awk '{print $2}')
  expected=2; [[ $variant == unconfined ]] && expected=0
  if [[ $mode != "$expected" ]]; then
    echo "create_start: $variant container has Seccomp: $mode, expected $expected" >&2
    exit 1
  fi
  bctl stop -t 0 "$container" > /dev/null
  bctl rm "$container" > /dev/null
}

# One untimed pair of each warms the caches.
pair runtime-default; pair unconfined; : > "$work/runtime-default.us"; : > "$work/unconfined.us"
for i in $(seq "$runs"); do
  echo "create_start: round $i of $runs" >&2
  pair runtime-default
  pair unconfined
done

# Prints "median min max" in milliseconds of the microsecond values in file $1.
stats() {
  sort -n "$1" | awk '{v[NR] = $1} END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f %.2f %.2f\n", m / 1000, v[1] / 1000, v[NR] / 1000 }'
}
read -r d_med d_min d_max < <(stats "$work/runtime-default.us")
read -r u_med u_min u_max < <(stats "$work/unconfined.us")
load=$(cut -d' ' -f1-3 /proc/loadavg)
printf '\nCreateContainer + StartContainer, ms: median (min-max) of %d runs, load %s\n' \
  "$runs" "$load"
printf '%-32s %s (%s-%s)\n' "RuntimeDefault seccomp, default caps" "$d_med" "$d_min" "$d_max"
printf '%-32s %s (%s-%s)\n' "Unconfined, default caps" "$u_med" "$u_min" "$u_max"
printf '%-32s %s\n' "cost of the profile (medians)" \
  "$(awk -v a="$d_med" -v b="$u_med" 'BEGIN {printf "%.2f", a - b}')"
if [[ -n $out ]]; then
  printf '{"runs": %d, "loadavg": "%s", "runtime_default_ms": {"median": %s, "min": %s, "max": %s}, "unconfined_ms": {"median": %s, "min": %s, "max": %s}}\n' \
    "$runs" "$load" "$d_med" "$d_min" "$d_max" "$u_med" "$u_min" "$u_max" > "$out"
  echo "figures written to $out"
fi
