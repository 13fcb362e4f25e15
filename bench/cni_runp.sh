#!/usr/bin/env bash
# RunPodSandbox on a CNI bridge network: the median of N runs of `berthctl runp`, and the median
# of the part berthd spent in CNI ADD (its "cni add done ... duration_ms=" log lines).
#
#   sudo bench/cni_runp.sh [--build DIR] [--runs N]
#
# berthd, its bridge and the iptables rules of portmap live in a network namespace made for the
# run (unshare -n), with a conflist, a bridge name and a subnet of their own, so nothing touches
# the host's interfaces. Plugins come from Debian's containernetworking-plugins in /usr/lib/cni.
set -euo pipefail

build=build
runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
bin=$(cd "$build/bin" && pwd)
[ -x "$bin/berthd" ] && [ -x "$bin/berthctl" ] || { echo "no berthd/berthctl in $bin" >&2; exit 1; }

if [ "${BERTH_CNI_BENCH_INNER:-}" != 1 ]; then
  tmp=$(mktemp -d /tmp/berth-cni-bench.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  BERTH_CNI_BENCH_INNER=1 BERTH_CNI_BENCH_DIR=$tmp unshare --net "$0" --build "$build" --runs "$runs"
  exit
fi

tmp=$BERTH_CNI_BENCH_DIR
mkdir -p "$tmp/net.d" "$tmp/pods"
cat > "$tmp/net.d/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "berth-bench", "plugins": [
  {"type": "bridge", "bridge": "bbench0", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "dataDir": "$tmp/ipam",
            "ranges": [[{"subnet": "10.199.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}
JSON
ip link set lo up

"$bin/berthd" --root "$tmp/root" --state "$tmp/state" --listen "$tmp/berth.sock" \
  --cni-conf-dir "$tmp/net.d" --cni-bin-dir /usr/lib/cni > "$tmp/berthd.log" 2>&1 &
berthd_pid=$!
cleanup() {
  kill "$berthd_pid" 2>/dev/null || true
  wait "$berthd_pid" 2>/dev/null || true
  # Pods left by an interrupted run: their pause processes and shims (found by this run's
  # cgroup and state folder), pinned namespaces and cgroups.
  for procs in /sys/fs/cgroup/pids/berth-cni-bench/*/cgroup.procs; do
    [ -e "$procs" ] && xargs -r kill -9 < "$procs" 2>/dev/null
  done
  for pid in $(pgrep -f "berth-shim create --state-dir $tmp/" || true); do kill "$pid" 2>/dev/null; done
  sleep 0.5
  for pin in "$tmp"/state/netns/*; do [ -e "$pin" ] && umount -l "$pin" 2>/dev/null; done
  rmdir /sys/fs/cgroup/*/berth-cni-bench/*/ /sys/fs/cgroup/*/berth-cni-bench 2>/dev/null || true
}
trap cleanup EXIT
export BERTH_ENDPOINT="unix://$tmp/berth.sock"
for _ in $(seq 100); do "$bin/berthctl" version > /dev/null 2>&1 && break; sleep 0.1; done

ids=()
times=()
for i in $(seq "$runs"); do
  cat > "$tmp/pods/$i.json" <<JSON
{"metadata": {"name": "bench-$i", "namespace": "bench", "uid": "bench-uid-$i", "attempt": 0},
 "log_directory": "$tmp/logs", "linux": {"cgroup_parent": "/berth-cni-bench"}}
JSON
  start=$(date +%s%N)
  ids+=("$("$bin/berthctl" runp "$tmp/pods/$i.json")")
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
# All pods share one cgroup parent, made by the first pod and removed with it, so it goes last.
for id in "${ids[@]}"; do "$bin/berthctl" stopp "$id" > /dev/null; done
for (( i = ${#ids[@]} - 1; i >= 0; i-- )); do "$bin/berthctl" rmp "${ids[$i]}" > /dev/null; done

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
runp_ms=$(printf '%s\n' "${times[@]}" | median)
add_ms=$(grep -o 'cni add done .*duration_ms=[0-9]*' "$tmp/berthd.log" | sed 's/.*duration_ms=//' | median)
echo "runs: $runs"
echo "RunPodSandbox median ms: $runp_ms   (each: ${times[*]})"
echo "CNI ADD median ms: $add_ms"
