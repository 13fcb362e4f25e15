#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and running Berth needs.
# Run as root. Safe to run more than once.
set -euo pipefail

packages=(
  # Build
  build-essential cmake pkg-config
  # Libraries
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libabsl-dev
  nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libcurl4-openssl-dev libssl-dev libarchive-dev libseccomp-dev libcap-dev
  # sd-bus, for the systemd cgroup driver's calls to systemd's manager
  libsystemd-dev
  # ISA-L's igzip inflates gzip layers faster (optional at build time); zlib for a unit test
  libisal-dev zlib1g-dev
  # Tests (python3 and openssl run the registry token server and fault proxy of e2e/support)
  libgtest-dev libgmock-dev python3 openssl
  # The private bus of the systemd cgroup driver's e2e tests
  dbus-daemon
  # Runtime tools and test peers: a registry, CNI plugins, the busybox for test images
  docker-registry containernetworking-plugins busybox-static iproute2 util-linux
  curl ca-certificates tar gzip coreutils procps
)

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"

# The default pod network (bridge, host-local, portmap, loopback), only where no CNI network is
# configured yet, so an operator's own configuration is never replaced.
cni_conf_dir=/etc/cni/net.d
if [ -z "$(ls -A "$cni_conf_dir" 2>/dev/null)" ]; then
  install -D -m 0644 "$(dirname "$0")/cni/10-berth-bridge.conflist" \
    "$cni_conf_dir/10-berth-bridge.conflist"
fi
