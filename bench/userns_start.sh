#!/usr/bin/env bash
# Measures what a pod user namespace costs at start-up: the median of N RunPodSandbox +
# CreateContainer + StartContainer sequences in three variants, all with loopback-only pods:
#   1. no user namespace;
#   2. a user namespace whose image layers are idmapped mounts (berthd's default);
#   3. a user namespace whose files are chowned (a second berthd with userns_ownership "chown").
#
#   bench/userns_start.sh [--runs N] [--build DIR] [--out FILE]
#
#   --runs N     timed runs per variant (default 10)
#   --build DIR  Berth build folder holding bin/ (default: build)
#   --out FILE   also write the figures as JSON to FILE
#
# Run as root. Everything lives under one temporary folder that is removed at the end. Each
# berthd has an empty CNI folder of its own, so pods get a network namespace with loopback only.
# Variants alternate round by round, so a change in the machine's load affects all alike.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=10 build="$top/build" out=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0" | cut -c3-; exit 0 ;;
    *) echo "userns_start: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ! $runs =~ ^[1-9][0-9]*$ ]]; then
  echo "userns_start: invalid --runs $runs: give a positive integer" >&2
  exit 2
fi
bin=$(cd "$build" && pwd)/bin
for tool in "$bin"/{berthd,berthctl,berth-shim,berth-pause} /usr/bin/docker-registry \
  /bin/busybox; do
  [[ -x $tool ]] || { echo "userns_start: $tool is missing" >&2; exit 1; }
done
[[ -z $out ]] || out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

work=$(mktemp -d /tmp/berth-bench-userns.XXXXXX)
cgroup=$(basename "$work")
daemon_pids=()
bench_name=userns_start
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"

# The two daemons: "idmap" keeps berthd's default, "chown" always chowns the container's files.
daemons=(idmap chown)

# Runs berthctl against the daemon named $1.
bctl() {
  local daemon=$1; shift
  timeout 60 "$bin/berthctl" --runtime-endpoint "unix://$work/$daemon/state/berth.sock" "$@"
}

# Everything started here ends here, also after a failure: the pods, the daemons by pid, shims
# naming our folder, mounts below it, the cgroups and the folder.
cleanup() {
  set +e
  for daemon in "${daemons[@]}"; do
    [[ -S $work/$daemon/state/berth.sock ]] && bctl "$daemon" rmp -f -a > /dev/null 2>&1
  done
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

# --- registry, image, daemons --------------------------------------------------------------

mkdir -p "$work/logs" "$work/pods"
start_registry
image="$registry/bench/busybox:1.0"
"$top/deploy/make-test-image.sh" "$image" > /dev/null

for daemon in "${daemons[@]}"; do
  dir=$work/$daemon
  mkdir -p "$dir/cni"
  printf '[network]\nconf_dir = "%s"\n' "$dir/cni" > "$dir/berth.toml"
  [[ $daemon == chown ]] && printf '\n[runtime]\nuserns_ownership = "chown"\n' >> "$dir/berth.toml"
  "$bin/berthd" --config "$dir/berth.toml" --root "$dir/root" --state "$dir/state" \
    --listen "$dir/state/berth.sock" --log-level info > "$work/berthd-$daemon.log" 2>&1 &
  daemon_pids+=($!)
done
for daemon in "${daemons[@]}"; do
  wait_for 300 bctl "$daemon" version
  bctl "$daemon" pull "$image" > /dev/null
done

# The chown path changes the owner of every entry of the image (files, directories and
# symlinks), so its cost grows with their number.
layer=$(find "$work/idmap/root" -type d -path '*/snapshots/*/fs' -print -quit)
[[ -n $layer ]] || { echo "userns_start: no unpacked layer under $work/idmap/root" >&2; exit 1; }
image_entries=$(find "$layer" -mindepth 1 | wc -l)

# Container id 0 maps to host id $host_id. Every pod uses the same range.
host_id=3200000 length=65536
userns_json="\"userns_options\": {\"mode\": 0,
     \"uids\": [{\"host_id\": $host_id, \"container_id\": 0, \"length\": $length}],
     \"gids\": [{\"host_id\": $host_id, \"container_id\": 0, \"length\": $length}]}"
# Per variant: the daemon that runs it, the uid_map line and chown warning its container must
# show, and its label in the table.
variants=(none idmap chown)
declare -A daemon_of=([none]=idmap [idmap]=idmap [chown]=chown)
declare -A expected_map=([none]="0 0 4294967295" [idmap]="0 $host_id $length"
  [chown]="0 $host_id $length")
declare -A expected_chown=([none]=no [idmap]=no [chown]=yes)
declare -A label=([none]="no user namespace" [idmap]="user namespace, idmapped layers"
  [chown]="user namespace, chowned files")
for variant in "${variants[@]}"; do
  options='"network": 0'
  [[ $variant == none ]] || options="$options, $userns_json"
  echo "$options" > "$work/$variant.options"
  cat > "$work/$variant-container.json" << JSON
{"metadata": {"name": "sleeper"}, "image": {"image": "$image"},
 "command": ["sleep", "3600"], "log_path": "sleeper.log",
 "linux": {"security_context": {"namespace_options": {$options}}}}
JSON
done

# --- measuring -----------------------------------------------------------------------------

# Times one RunPodSandbox + CreateContainer + StartContainer of variant $1 in microseconds
# (appended to $work/$1.us), each pod named after the variant and counter $2. Checks the uid
# map the container reads and whether its files were chowned, then removes container and pod
# untimed.
run() {
  local variant=$1 name="bench-$1-$2" daemon=${daemon_of[$1]} t0 t1 pod container map
  local pod_json=$work/pods/$name.json
  mkdir -p "$work/logs/$name"
  cat > "$pod_json" << JSON
{"metadata": {"name": "$name", "namespace": "default", "uid": "$name-uid", "attempt": 0},
 "log_directory": "$work/logs/$name", "linux": {"cgroup_parent": "/$cgroup/pod",
   "security_context": {"namespace_options": {$(cat "$work/$variant.options")}}}}
JSON
  t0=$(date +%s%N)
  pod=$(bctl "$daemon" runp "$pod_json")
  container=$(bctl "$daemon" create "$pod" "$work/$variant-container.json" "$pod_json")
  bctl "$daemon" start "$container" > /dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000)) >> "$work/$variant.us"
  # /proc/self/uid_map pads its columns, so xargs squeezes them to single spaces.
  map=$(bctl "$daemon" exec -s "$container" cat /proc/self/uid_map | xargs)
  if [[ $map != "${expected_map[$variant]}" ]]; then
    echo "userns_start: $variant container has uid_map '$map'," \
      "expected '${expected_map[$variant]}'" >&2
    exit 1
  fi
  # The shim logs a warning when it chowns the image's files instead of idmapping the layers.
  local chowned=no note="user namespace: image files were chowned"
  grep -rqsF --include=shim.log "container=$container warning=\"$note" "$work/$daemon/state" &&
    chowned=yes
  if [[ $chowned != "${expected_chown[$variant]}" ]]; then
    echo "userns_start: $variant container: files chowned is $chowned," \
      "expected ${expected_chown[$variant]}" >&2
    exit 1
  fi
  bctl "$daemon" stop -t 0 "$container" > /dev/null
  bctl "$daemon" rm "$container" > /dev/null
  bctl "$daemon" stopp "$pod" > /dev/null
  bctl "$daemon" rmp "$pod" > /dev/null
}

# One untimed run of each warms the caches.
for variant in "${variants[@]}"; do run "$variant" warm; : > "$work/$variant.us"; done
for i in $(seq "$runs"); do
  echo "userns_start: round $i of $runs" >&2
  for variant in "${variants[@]}"; do run "$variant" "$i"; done
done

# Prints "median min max" in milliseconds of the microsecond values in file $1.
stats() {
  sort -n "$1" | awk '{v[NR] = $1} END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f %.2f %.2f\n", m / 1000, v[1] / 1000, v[NR] / 1000 }'
}
declare -A med min max
for variant in "${variants[@]}"; do
  read -r "med[$variant]" "min[$variant]" "max[$variant]" < <(stats "$work/$variant.us")
done
diff_ms() { awk -v a="${med[$1]}" -v b="${med[none]}" 'BEGIN {printf "%.2f", a - b}'; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
printf '\nRunPodSandbox + CreateContainer + StartContainer, ms: median (min-max) of %d' "$runs"
printf ' runs, load %s\nimage: %d entries in its one layer\n' "$load" "$image_entries"
for variant in "${variants[@]}"; do
  printf '%-34s %s (%s-%s)\n' "${label[$variant]}" "${med[$variant]}" "${min[$variant]}" \
    "${max[$variant]}"
done
printf '%-34s %s\n' "idmapped layers - none (medians)" "$(diff_ms idmap)"
printf '%-34s %s\n' "chowned files - none (medians)" "$(diff_ms chown)"
if [[ -n $out ]]; then
  {
    printf '{"runs": %d, "loadavg": "%s", "image_entries": %d' "$runs" "$load" "$image_entries"
    for variant in "${variants[@]}"; do
      printf ', "%s_ms": {"median": %s, "min": %s, "max": %s}' "$variant" "${med[$variant]}" \
        "${min[$variant]}" "${max[$variant]}"
    done
    printf ', "idmap_minus_none_ms": %s, "chown_minus_none_ms": %s}\n' "$(diff_ms idmap)" \
      "$(diff_ms chown)"
  } > "$out"
  echo "figures written to $out"
fi
