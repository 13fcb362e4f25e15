# Shell functions the benchmark scripts share. A script sets `bench_name` (the prefix of its
# messages), `work` (its temporary folder) and the array `daemon_pids`, then sources this file.

# Sends SIGTERM to our child $1, waits up to 10 s for it to exit, then SIGKILL, and reaps it.
stop_pid() {
  kill "$1" 2> /dev/null || return 0
  for _ in $(seq 100); do ps -o stat= -p "$1" | grep -qv '^Z' || break; sleep 0.1; done
  kill -9 "$1" 2> /dev/null || true
  wait "$1" 2> /dev/null || true
}

# Runs "$@" until it succeeds, at most $1 tenths of a second.
wait_for() {
  local tries=$1; shift
  for _ in $(seq "$tries"); do "$@" > /dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$bench_name: timed out waiting for: $*" >&2; return 1
}

# Starts Debian's docker-registry on a free loopback port, with its data under
# $work/registry, and waits until it serves. Sets `registry` to its host:port.
start_registry() {
  local port="" candidate
  for _ in $(seq 50); do
    candidate=$((20000 + RANDOM % 20000))
    ss -Hltn "sport = :$candidate" | grep -q . || { port=$candidate; break; }
  done
  [[ -n $port ]] || { echo "$bench_name: no free loopback port" >&2; return 1; }
  registry="127.0.0.1:$port"
  mkdir -p "$work/registry"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$work/registry/data" "$registry" > "$work/registry/config.yml"
  /usr/bin/docker-registry serve "$work/registry/config.yml" > "$work/registry/log" 2>&1 &
  daemon_pids+=($!)
  wait_for 100 curl -fsS "http://$registry/v2/"
}
