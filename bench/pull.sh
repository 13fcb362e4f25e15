#!/usr/bin/env bash
# Pull-and-unpack time, peak memory and disk of Berth beside containerd, from one loopback
# registry, in the same run.
#
#   bench/pull.sh [--rounds N] [--build DIR] [--packages "P1 P2 ..."] [--out FILE]
#
#   --rounds N         cold pulls per runtime (default 3); the runtimes alternate who goes first
#   --build DIR        Berth build folder holding bin/ (default: build)
#   --packages "..."   installed Debian packages, one layer each (at least five; default below)
#   --out FILE         also write the figures as JSON to FILE
#
# Run as root. Everything lives under one temporary folder that is removed at the end.
# bench/README.md explains the figures.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 build="$top/build" out=""
packages="libllvm14 gcc-12 valgrind postgresql-15 perl-modules-5.36 libpython3.11-stdlib"
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --packages) packages=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0" | cut -c3-; exit 0 ;;
    *) echo "pull: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ! $rounds =~ ^[1-9][0-9]*$ ]]; then
  echo "pull: invalid --rounds $rounds: give a positive integer" >&2
  exit 2
fi
read -r -a package_list <<< "$packages"
if [[ ${#package_list[@]} -lt 5 ]]; then
  echo "pull: give at least five packages (one layer each), got ${#package_list[@]}" >&2
  exit 2
fi
for package in "${package_list[@]}"; do
  dpkg-query -W "$package" > /dev/null 2>&1 ||
    { echo "pull: package $package is not installed" >&2; exit 1; }
done
bin=$(cd "$build" && pwd)/bin
for tool in "$bin"/{berthd,berthctl} /usr/bin/docker-registry /usr/bin/containerd /usr/bin/ctr \
  /usr/bin/time /usr/bin/python3; do
  [[ -x $tool ]] || { echo "pull: $tool is missing" >&2; exit 1; }
done
[[ -z $out ]] || out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

work=$(mktemp -d /var/tmp/berth-pull-bench.XXXXXX)
daemon_pids=()
bench_name=pull
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"

# Everything started here ends here, also after a failure: the daemons by pid, then mounts
# under the folder, then the folder.
cleanup() {
  set +e
  for pid in "${daemon_pids[@]}"; do stop_pid "$pid"; done
  findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r umount -l
  rm -rf "$work"
}
trap cleanup EXIT

# Stops daemon $1 and forgets it, so the clean-up never signals a reused pid.
stop_daemon() {
  local pid kept=()
  stop_pid "$1"
  for pid in "${daemon_pids[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
  daemon_pids=("${kept[@]}")
}

# Peak resident memory (VmHWM) of process $1, in KiB.
peak_rss() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# CPU time (user and system) that process $1 has used so far, in ms.
cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- registry and image --------------------------------------------------------------------

mkdir -p "$work/image"
start_registry

image="$registry/bench/debian:1.0"
echo "pull: building and pushing $image from: ${package_list[*]}" >&2
read -r layers unpacked compressed entries < <(python3 "$top/bench/pull_image.py" \
  --registry "$registry" --repo bench/debian --tag 1.0 --work "$work/image" "${package_list[@]}")
rm -rf "$work/image"
echo "pull: $layers layers, $entries entries, $((unpacked / 1000000)) MB unpacked," \
  "$((compressed / 1000000)) MB compressed" >&2

# --- one cold pull per runtime -------------------------------------------------------------

# Each appends "wall_ms daemon_peak_kib client_peak_kib disk_kib cpu_ms" to
# $work/<runtime>.rounds, where cpu_ms is what the daemon and the client used during the pull.
# Appends one round of runtime $1 (daemon $2, folder $3, wall ms $4, daemon CPU ms before $5).
record_round() {
  local client_kib user sys
  read -r client_kib user sys < <(tail -1 "$3/client.kib")
  echo "$4 $(peak_rss "$2") $client_kib $(du -sk "$3/root" | cut -f1)" \
    "$(($(cpu_ms "$2") - $5 + $(awk -v u="$user" -v s="$sys" 'BEGIN {print int((u + s) * 1000)}')))" \
    >> "$work/$1.rounds"
}

pull_berth() {
  local dir=$work/berth pid start end cpu
  rm -rf "$dir"
  mkdir -p "$dir/cni"
  printf '[image]\nmax_concurrent_downloads = 3\n[network]\nconf_dir = "%s"\n' "$dir/cni" \
    > "$dir/berth.toml"
  "$bin/berthd" --config "$dir/berth.toml" --root "$dir/root" --state "$dir/state" \
    --listen "$dir/state/berth.sock" --log-level info > "$work/berthd.log" 2>&1 &
  pid=$!
  daemon_pids+=("$pid")
  bctl() { timeout 600 "$bin/berthctl" --runtime-endpoint "unix://$dir/state/berth.sock" "$@"; }
  wait_for 300 bctl version
  cpu=$(cpu_ms "$pid")
  start=$(now_ms)
  /usr/bin/time -f '%M %U %S' -o "$dir/client.kib" "$bin/berthctl" \
    --runtime-endpoint "unix://$dir/state/berth.sock" pull "$image" \
    > "$dir/pull.out" 2>&1 || { cat "$dir/pull.out" >&2; return 1; }
  end=$(now_ms)
  bctl images | grep -q bench/debian || { echo "pull: Berth lists no image" >&2; return 1; }
  record_round berth "$pid" "$dir" "$((end - start))" "$cpu"
  stop_daemon "$pid"
  rm -rf "$dir"
}

# ctr fetches the blobs itself and has containerd store them, then asks containerd to unpack
# each layer with the overlayfs snapshotter. containerd runs in a mount namespace of its own
# with a private /run, so its overlay mounts and sockets never reach the host.
pull_containerd() {
  local dir=$work/containerd pid start end cpu
  rm -rf "$dir"
  mkdir -p "$dir"
  cat > "$dir/config.toml" << TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
TOML
  unshare --mount --propagation private sh -c 'mount -n -t tmpfs -o mode=0755 bench-run /run &&
    exec containerd --config "$1" --log-level warn' sh "$dir/config.toml" \
    > "$work/containerd.log" 2>&1 &
  pid=$!
  daemon_pids+=("$pid")
  cctl() { timeout 600 ctr -a "$dir/containerd.sock" "$@"; }
  wait_for 300 cctl version
  cpu=$(cpu_ms "$pid")
  start=$(now_ms)
  /usr/bin/time -f '%M %U %S' -o "$dir/client.kib" ctr -a "$dir/containerd.sock" images pull \
    --plain-http --max-concurrent-downloads 3 "$image" > "$dir/pull.out" 2>&1 ||
    { tail -5 "$dir/pull.out" >&2; return 1; }
  end=$(now_ms)
  cctl images ls -q | grep -q bench/debian || { echo "pull: containerd lists no image" >&2; return 1; }
  record_round containerd "$pid" "$dir" "$((end - start))" "$cpu"
  stop_daemon "$pid"
  rm -rf "$dir"
}

: > "$work/berth.rounds"
: > "$work/containerd.rounds"
for i in $(seq "$rounds"); do
  echo "pull: round $i of $rounds" >&2
  if ((i % 2)); then pull_berth; pull_containerd; else pull_containerd; pull_berth; fi
  echo "pull:   berth      $(tail -1 "$work/berth.rounds")" >&2
  echo "pull:   containerd $(tail -1 "$work/containerd.rounds")" >&2
done

# --- report --------------------------------------------------------------------------------

# Median, min and max of column $2 of file $1.
stats() {
  cut -d' ' -f"$2" "$1" | sort -n | awk '{v[NR] = $1}
    END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'
}
read -r bw bw_min bw_max < <(stats "$work/berth.rounds" 1)
read -r cw cw_min cw_max < <(stats "$work/containerd.rounds" 1)
read -r bd _ bd_max < <(stats "$work/berth.rounds" 2)
read -r cd _ cd_max < <(stats "$work/containerd.rounds" 2)
read -r bc _ _ < <(stats "$work/berth.rounds" 3)
read -r cc _ _ < <(stats "$work/containerd.rounds" 3)
read -r bk _ _ < <(stats "$work/berth.rounds" 4)
read -r ck _ _ < <(stats "$work/containerd.rounds" 4)
read -r bu _ _ < <(stats "$work/berth.rounds" 5)
read -r cu _ _ < <(stats "$work/containerd.rounds" 5)
ratio=$(awk -v b="$bw" -v c="$cw" 'BEGIN {printf "%.2f", b / c}')
# The ratio within each round, where both runtimes met about the same load.
paste -d' ' <(cut -d' ' -f1 "$work/berth.rounds") <(cut -d' ' -f1 "$work/containerd.rounds") |
  awk '{printf "%.3f\n", $1 / $2}' > "$work/ratios"
read -r round_ratio round_ratio_min round_ratio_max < <(stats "$work/ratios" 1)
containerd_version=$(containerd --version | awk '{print $3}')
load=$(cut -d' ' -f1-3 /proc/loadavg)

printf '\nimage: %s layers, %s entries, %s MB unpacked, %s MB compressed; %s rounds\n' \
  "$layers" "$entries" "$((unpacked / 1000000))" "$((compressed / 1000000))" "$rounds"
printf '%-34s %14s %14s\n' "" "berth" "containerd $containerd_version"
printf '%-34s %14s %14s\n' "pull wall ms, median" "$bw" "$cw"
printf '%-34s %14s %14s\n' "pull wall ms, min..max" "$bw_min..$bw_max" "$cw_min..$cw_max"
printf '%-34s %14s %14s\n' "daemon peak RSS KiB, median" "$bd" "$cd"
printf '%-34s %14s %14s\n' "daemon peak RSS KiB, max" "$bd_max" "$cd_max"
printf '%-34s %14s %14s\n' "client peak RSS KiB, median" "$bc" "$cc"
printf '%-34s %14s %14s\n' "disk after pull KiB, median" "$bk" "$ck"
printf '%-34s %14s %14s\n' "CPU ms daemon+client, median" "$bu" "$cu"
printf 'wall time ratio berth/containerd: %s of the medians, %s median of the rounds (%s..%s);' \
  "$ratio" "$round_ratio" "$round_ratio_min" "$round_ratio_max"
printf ' goal <= 0.60\nload average at the end: %s\n' "$load"

if [[ -n $out ]]; then
  cat > "$out" << JSON
{"image": {"layers": $layers, "entries": $entries, "unpacked_bytes": $unpacked,
  "compressed_bytes": $compressed},
 "rounds": $rounds, "containerd_version": "$containerd_version", "loadavg": "$load",
 "berth": {"wall_ms": [$(cut -d' ' -f1 "$work/berth.rounds" | paste -sd,)],
   "daemon_peak_kib": [$(cut -d' ' -f2 "$work/berth.rounds" | paste -sd,)],
   "client_peak_kib": [$(cut -d' ' -f3 "$work/berth.rounds" | paste -sd,)],
   "disk_kib": [$(cut -d' ' -f4 "$work/berth.rounds" | paste -sd,)],
   "cpu_ms": [$(cut -d' ' -f5 "$work/berth.rounds" | paste -sd,)]},
 "containerd": {"wall_ms": [$(cut -d' ' -f1 "$work/containerd.rounds" | paste -sd,)],
   "daemon_peak_kib": [$(cut -d' ' -f2 "$work/containerd.rounds" | paste -sd,)],
   "client_peak_kib": [$(cut -d' ' -f3 "$work/containerd.rounds" | paste -sd,)],
   "disk_kib": [$(cut -d' ' -f4 "$work/containerd.rounds" | paste -sd,)],
   "cpu_ms": [$(cut -d' ' -f5 "$work/containerd.rounds" | paste -sd,)]},
 "wall_ratio": $ratio, "round_ratios": [$(paste -sd, "$work/ratios")]}
JSON
fi
