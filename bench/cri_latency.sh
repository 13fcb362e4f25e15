#!/usr/bin/env bash
# Measures CRI call latency and memory of Berth, and of containerd's CRI plugin side by side.
#
#   bench/cri_latency.sh [--runs N] [--build DIR] [--crictl PATH] [--out FILE]
#
#   --runs N       timed rounds per runtime (default 10)
#   --build DIR    Berth build folder holding bin/ (default: build)
#   --crictl PATH  crictl for the containerd side (default: crictl on PATH); without it, or
#                  without containerd, the containerd side is skipped
#   --out FILE     also write the figures as JSON to FILE
#
# Run as root. Everything lives under one temporary folder that is removed at the end; pods use
# the host network, so neither runtime calls CNI. bench/README.md explains the figures.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=10 build="$top/build" crictl=$(command -v crictl || true) out=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --crictl) crictl=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0" | cut -c3-; exit 0 ;;
    *) echo "cri_latency: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ! $runs =~ ^[1-9][0-9]*$ ]]; then
  echo "cri_latency: invalid --runs $runs: give a positive integer" >&2
  exit 2
fi
bin=$(cd "$build" && pwd)/bin
for tool in "$bin"/{berthd,berthctl,berth-shim,berth-pause} /usr/bin/docker-registry \
  /bin/busybox; do
  [[ -x $tool ]] || { echo "cri_latency: $tool is missing" >&2; exit 1; }
done
[[ -z $out ]] || out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# The containerd side needs crictl, and containerd with its runc shim. Without them, it is skipped.
skip=""
[[ -n $crictl && -x $crictl ]] || skip="no crictl: give --crictl PATH (crictl v1.26.1 was used)"
for tool in containerd containerd-shim-runc-v2 runc; do
  command -v "$tool" > /dev/null ||
    skip="$tool is missing: apt-get install containerd (Debian 12 has 1.6.20, with runc)"
done
[[ -z $skip ]] || echo "cri_latency: containerd is skipped: $skip" >&2

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
cgroup=$(basename "$work") # pods get the cgroup parent /$cgroup/pod
daemon_pids=() active_ctl=""
bench_name=cri_latency
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"

# Everything started here ends here, also after a failure: pods through their runtime, then
# the daemons by pid, then leftover shims (those with our folder in their command line), then
# mounts under the folder, the cgroups and the folder itself.
cleanup() {
  set +e
  [[ -n $active_ctl ]] && "$active_ctl" rmp -f -a > /dev/null 2>&1
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

# --- registry and images -------------------------------------------------------------------

start_registry
image="$registry/bench/busybox:1.0"
"$top/deploy/make-test-image.sh" "$image" > /dev/null

# Uploads file $2 as a blob of repository $1 and prints its digest.
push_blob() {
  local digest location
  digest="sha256:$(sha256sum "$2" | cut -d' ' -f1)"
  location=$(curl -fsS -o /dev/null -D - -X POST "http://$registry/v2/$1/blobs/uploads/" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')
  [[ $location == /* ]] && location="http://$registry$location"
  [[ $location == *\?* ]] && location+="&digest=$digest" || location+="?digest=$digest"
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$2" "$location"
  echo "$digest"
}

# containerd's sandbox image: busybox alone in one layer (so it shares no layer with the test
# image, whose pulls must stay real), running "sleep" for ever like a pause process.
pause_image="$registry/bench/pause:1.0"
push_pause_image() {
  local dir="$work/pause" layer config format
  mkdir -p "$dir/rootfs/bin"
  cp /bin/busybox "$dir/rootfs/bin/busybox"
  tar -C "$dir/rootfs" --owner=0 --group=0 --numeric-owner -cf "$dir/layer.tar" .
  gzip -n < "$dir/layer.tar" > "$dir/layer.tar.gz"
  format='{"architecture":"amd64","os":"linux",'
  format+='"config":{"Entrypoint":["/bin/busybox","sleep","2147483647"]},'
  format+='"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}'
  printf "$format" "$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)" > "$dir/config"
  layer=$(push_blob bench/pause "$dir/layer.tar.gz")
  config=$(push_blob bench/pause "$dir/config")
  format='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
  format+='"config":{"mediaType":"application/vnd.oci.image.config.v1+json",'
  format+='"digest":"%s","size":%d},'
  format+='"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",'
  format+='"digest":"%s","size":%d}]}'
  printf "$format" "$config" "$(stat -c %s "$dir/config")" "$layer" \
    "$(stat -c %s "$dir/layer.tar.gz")" |
    curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
      --data-binary @- "http://$registry/v2/bench/pause/manifests/1.0"
}

# The same pod and container for both runtimes: host network, a sleeping busybox.
cat > "$work/pod.json" << JSON
{"metadata": {"name": "bench", "namespace": "default", "uid": "bench-uid", "attempt": 0},
 "log_directory": "$work/logs", "linux": {"cgroup_parent": "/$cgroup/pod",
   "security_context": {"namespace_options": {"network": 2}}}}
JSON
cat > "$work/container.json" << JSON
{"metadata": {"name": "sleeper"}, "image": {"image": "$image"},
 "command": ["sleep", "3600"], "log_path": "sleeper.log"}
JSON

# --- measuring -----------------------------------------------------------------------------

# Runs "$@" as CRI call $2 of runtime $1, adds its wall-clock time in microseconds to
# $work/$1.client and to the variable last_us, and passes its output on.
timed() {
  local rt=$1 op=$2 t0 t1; shift 2
  t0=$(date +%s%N)
  "$@" || { echo "cri_latency: $rt: $op failed: $*" >&2; return 1; }
  t1=$(date +%s%N)
  last_us=$(((t1 - t0) / 1000))
  echo "$op $last_us" >> "$work/$rt.client"
}

# One timed round on runtime $1 with client function $2: the client alone (Version), a real
# pull, a pod with a running container, and its teardown.
round() {
  local rt=$1 ctl=$2 pod container down=0
  timed "$rt" Version "$ctl" version > /dev/null
  "$ctl" rmi "$image" > /dev/null 2>&1 || true
  timed "$rt" PullImage "$ctl" pull "$image" > /dev/null
  pod=$(timed "$rt" RunPodSandbox "$ctl" runp "$work/pod.json")
  container=$(timed "$rt" CreateContainer "$ctl" create "${create_flags[@]}" "$pod" \
    "$work/container.json" "$work/pod.json")
  timed "$rt" StartContainer "$ctl" start "$container" > /dev/null
  timed "$rt" StopContainer "$ctl" stop "$container" > /dev/null; down=$((down + last_us))
  timed "$rt" RemoveContainer "$ctl" rm "$container" > /dev/null; down=$((down + last_us))
  timed "$rt" StopPodSandbox "$ctl" stopp "$pod" > /dev/null; down=$((down + last_us))
  timed "$rt" RemovePodSandbox "$ctl" rmp "$pod" > /dev/null; down=$((down + last_us))
  echo "teardown $down" >> "$work/$rt.client"
}

# Prints "rss pss" (KiB) of pid $1.
memory_of() { awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} END {print r, p}' "/proc/$1/smaps_rollup"; }

# Prints the parent of pid $1, which must be a shim.
shim_of() {
  local pid
  pid=$(awk '/^PPid:/ {print $2}' "/proc/$1/status")
  if [[ $(cat "/proc/$pid/comm") != *shim* ]]; then
    echo "cri_latency: the parent of pid $1 is not a shim" >&2
    return 1
  fi
  echo "$pid"
}
pid_in() { grep -o '"pid": *[0-9][0-9]*' | head -1 | grep -o '[0-9]*$'; }

# Adds to $work/$1.memory the shims and pause process of one pod, made with client function $2,
# whose container runs sleep.
measure_memory() {
  local rt=$1 ctl=$2 pod container pid pause shim pause_shim
  "$ctl" pull "$image" > /dev/null
  pod=$("$ctl" runp "$work/pod.json")
  container=$("$ctl" create "${create_flags[@]}" "$pod" "$work/container.json" "$work/pod.json")
  "$ctl" start "$container" > /dev/null
  sleep 1
  pid=$("$ctl" inspect "$container" | pid_in)
  pause=$("$ctl" inspectp "$pod" | pid_in)
  shim=$(shim_of "$pid")
  pause_shim=$(shim_of "$pause")
  { echo "container_shim $(memory_of "$shim")"
    echo "all_shims_of_pod $(for s in $(printf '%s\n' "$shim" "$pause_shim" | sort -u); do
      memory_of "$s"; done | awk '{r += $1; p += $2} END {print r, p}')"
    echo "pause $(memory_of "$pause")"; } >> "$work/$rt.memory"
  "$ctl" rmp -f "$pod" > /dev/null
}

# Reads "op microseconds" lines and prints "op median min max" in milliseconds.
stats() {
  awk '{ if (!($1 in n)) order[++k] = $1; v[$1, ++n[$1]] = $2 }
    END { for (i = 1; i <= k; i++) { op = order[i]; m = n[op]
      for (a = 2; a <= m; a++) { x = v[op, a]
        for (b = a - 1; b >= 1 && v[op, b] > x; b--) v[op, b + 1] = v[op, b]
        v[op, b + 1] = x }
      median = (m % 2) ? v[op, (m + 1) / 2] : (v[op, m / 2] + v[op, m / 2 + 1]) / 2
      printf "%s %.2f %.2f %.2f\n", op, median / 1000, v[op, 1] / 1000, v[op, m] / 1000 } }' "$1"
}

# Server-side durations, also as "op microseconds" lines. berthd logs "rpc end ... method=.../Op
# ... duration_ms=X" per call. containerd logs "Op ..." when a CRI call starts and "Op ...
# returns ..." when it ends, each with a timestamp to the nanosecond.
sets='BEGIN { n = split("PullImage RunPodSandbox CreateContainer StartContainer", a)
  for (i = 1; i <= n; i++) want[a[i]]
  n = split("StopContainer RemoveContainer StopPodSandbox RemovePodSandbox", a)
  for (i = 1; i <= n; i++) { want[a[i]]; teardown[a[i]] } }
function emit(op, us) { print op, us; if (op in teardown) sum += us
  if (op == "RemovePodSandbox") { print "teardown", sum; sum = 0 } }'
berth_server_times() {
  awk "$sets"' / rpc end / && / code=OK/ { op = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^method=/) { op = $i; sub(/.*\//, "", op) }
        if ($i ~ /^duration_ms=/) us = substr($i, 13) * 1000 }
      if (op in want) emit(op, us) }'
}
containerd_server_times() {
  awk "$sets"' match($0, /msg="[A-Za-z]+ /) { op = substr($0, RSTART + 5, RLENGTH - 6)
      if (!(op in want)) next
      split($0, f, "\""); split(f[2], t, /[T:]/); us = (t[2] * 3600 + t[3] * 60 + t[4]) * 1e6
      if ($0 !~ / returns /) { start[op] = us; next }
      us -= start[op]; emit(op, us < 0 ? us + 86400e6 : us) }'
}

# Measures runtime $1 with client function $2, daemon pid $3, log $4 and log reader $5. It records
# the daemon's memory two seconds after it first responded, runs the timed rounds, reads their
# server-side times from the log lines written since they began, and measures one pod's memory.
bench_runtime() {
  local rt=$1 ctl=$2 mark
  active_ctl=$ctl
  sleep 2
  echo "daemon_idle $(memory_of "$3")" > "$work/$rt.memory"
  [[ $rt == containerd ]] && { push_pause_image; "$ctl" pull "$pause_image" > /dev/null; }
  mark=$(wc -l < "$4")
  for i in $(seq "$runs"); do
    echo "cri_latency: $rt round $i of $runs" >&2
    round "$rt" "$ctl"
  done
  tail -n +$((mark + 1)) "$4" | $5 > "$work/$rt.server"
  measure_memory "$rt" "$ctl"
  "$ctl" rmi "$image" > /dev/null
  stats "$work/$rt.client" > "$work/$rt.client.stats"
  stats "$work/$rt.server" > "$work/$rt.server.stats"
  active_ctl=""
  stop_pid "$3"
}

# --- Berth ---------------------------------------------------------------------------------

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
berth_version=$(bctl version | awk '/RuntimeVersion/ {print $2}')
create_flags=()
bench_runtime berth bctl "${daemon_pids[-1]}" "$work/berthd.log" berth_server_times

# --- containerd ----------------------------------------------------------------------------

touch "$work"/containerd.{client.stats,server.stats,memory}
if [[ -z $skip ]]; then
  containerd_dir=$work/containerd
  mkdir -p "$containerd_dir/cni" "$containerd_dir/certs.d/$registry"
  printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' \
    "$registry" "$registry" > "$containerd_dir/certs.d/$registry/hosts.toml"
  cat > "$containerd_dir/config.toml" << TOML
version = 2
root = "$containerd_dir/root"
state = "$containerd_dir/state"
grpc = { address = "$containerd_dir/containerd.sock" }
ttrpc = { address = "$containerd_dir/containerd.sock.ttrpc" }
[plugins."io.containerd.internal.v1.opt"]
  path = "$containerd_dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  cni = { bin_dir = "/usr/lib/cni", conf_dir = "$containerd_dir/cni" }
  registry = { config_path = "$containerd_dir/certs.d" }
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    options = { Root = "$containerd_dir/runc" }
TOML
  printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\n' \
    "$containerd_dir/containerd.sock" "$containerd_dir/containerd.sock" \
    > "$containerd_dir/crictl.yaml"
  # containerd 1.6 puts shim sockets in /run/containerd/s regardless of its state folder. So it
  # runs in a private mount namespace with its own /run, which also keeps its mounts out of ours.
  unshare --mount --propagation private sh -c 'mount -n -t tmpfs -o mode=0755 bench-run /run &&
    exec containerd --config "$1" --log-level info' sh "$containerd_dir/config.toml" \
    > "$work/containerd.log" 2>&1 &
  daemon_pids+=($!)
  cctl() { timeout 60 "$crictl" --config "$containerd_dir/crictl.yaml" "$@"; }
  wait_for 300 cctl version
  containerd_version=$(containerd --version | awk '{print $3}')
  create_flags=(--no-pull)
  bench_runtime containerd cctl "${daemon_pids[-1]}" "$work/containerd.log" \
    containerd_server_times
fi

# --- report --------------------------------------------------------------------------------

# Prints the table from both runtimes' stats and memory files, and writes the JSON to $out if it
# is set. A skipped containerd side has empty files, so it shows "-" in the table.
awk -v runs="$runs" -v out="$out" -v skip="$skip" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" \
  -v versions="${berth_version:-} ${containerd_version:-}" '
  FNR == 1 { for (f = 1; ARGV[f] != FILENAME; f++); r = f <= 3 ? 1 : 2; kind = (f - 1) % 3 }
  kind < 2 { if (!($1 in ops)) { ops[$1]; order[++k] = $1 }
    cell[$1, r, kind] = sprintf("%.2f (%.2f-%.2f)", $2, $3, $4)
    js[$1, r, kind] = sprintf("{\"median\": %s, \"min\": %s, \"max\": %s}", $2, $3, $4); next }
  { if (!($1 in mems)) { mems[$1]; morder[++j] = $1 }
    mem[$1, r] = sprintf("%8d %8d", $2, $3)
    js[$1, r] = sprintf("{\"rss\": %d, \"pss\": %d}", $2, $3) }
  function cell_or_dash(key) { return (key in cell) ? cell[key] : "-" }
  END {
    printf "\nCRI call, ms: median (min-max) of %d runs\n%-17s", runs, ""
    printf " %-22s %-22s %-22s %s\n", "berth client", "berth server", "containerd client",
      "containerd server"
    for (i = 1; i <= k; i++) { o = order[i]
      printf "%-17s %-22s %-22s %-22s %s\n", o, cell_or_dash(o SUBSEP 1 SUBSEP 0),
        cell_or_dash(o SUBSEP 1 SUBSEP 1),
        cell_or_dash(o SUBSEP 2 SUBSEP 0), cell_or_dash(o SUBSEP 2 SUBSEP 1) }
    printf "\nmemory, KiB        berth RSS      PSS  containerd RSS      PSS\n"
    for (i = 1; i <= j; i++) { m = morder[i]
      printf "%-17s %17s %25s\n", m, mem[m, 1], ((m, 2) in mem) ? mem[m, 2] : "- -" }
    if (out == "") exit
    split(versions, version, " ")
    printf "{\"runs\": %d, \"pods\": \"host network\", \"loadavg\": \"%s\"", runs, load > out
    for (r = 1; r <= 2; r++) {
      printf ", \"%s\": ", (r == 1 ? "berth" : "containerd") > out
      if (r == 2 && skip != "") { printf "{\"skipped\": \"%s\"}", skip > out; continue }
      printf "{\"version\": \"%s\", \"latency_ms\": {", version[r] > out
      for (i = 1; i <= k; i++) { o = order[i]
        printf "%s\"%s\": {\"client\": %s, \"server\": %s}", (i > 1 ? ", " : ""), o, js[o, r, 0],
          ((o, r, 1) in js) ? js[o, r, 1] : "null" > out }
      printf "}, \"memory_kib\": {" > out
      for (i = 1; i <= j; i++)
        printf "%s\"%s\": %s", (i > 1 ? ", " : ""), morder[i], js[morder[i], r] > out
      printf "}}" > out }
    print "}" > out
    print "figures written to " out }' \
  "$work"/berth.{client.stats,server.stats,memory} \
  "$work"/containerd.{client.stats,server.stats,memory}
