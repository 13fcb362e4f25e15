#!/usr/bin/env bash
# Builds the busybox test image (Debian's busybox-static, one gzip layer, Cmd ["sh"]) and pushes
# it to a registry through the OCI distribution API.
#
#   deploy/make-test-image.sh 127.0.0.1:5000/busybox:latest
#
# Needs bash, curl, tar (GNU), sha256sum and gzip. Registries on localhost or 127.0.0.1 are
# reached over plain HTTP, any other over HTTPS; set REGISTRY_SCHEME=http to force plain HTTP.
# BUSYBOX names the binary to package (default /bin/busybox). Prints the manifest digest.
set -euo pipefail

usage() {
  echo "usage: $0 HOST:PORT/NAME[:TAG]" >&2
  exit 2
}

[[ $# -eq 1 && "$1" == */* ]] || usage
target="$1"
registry="${target%%/*}"
repository="${target#*/}"
tag=latest
if [[ "${repository##*/}" == *:* ]]; then
  tag="${repository##*:}"
  repository="${repository%:*}"
fi
busybox="${BUSYBOX:-/bin/busybox}"
case "${registry%%:*}" in
  localhost | 127.0.0.1) scheme="${REGISTRY_SCHEME:-http}" ;;
  *) scheme="${REGISTRY_SCHEME:-https}" ;;
esac
base_url="${scheme}://${registry}"

[[ -x "$busybox" ]] || { echo "$busybox not found: install busybox-static" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The root file system of the layer.
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,root,dev,proc,sys,var}
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ "$applet" == busybox || "$applet" == */* ]] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"

# The layer: a reproducible tar (sorted, root-owned, fixed mtime) and its gzip.
tar --create --file="$work/layer.tar" --directory="$rootfs" --sort=name --owner=0 --group=0 \
  --numeric-owner --mtime=@1700000000 --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime .
diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
gzip -n -9 <"$work/layer.tar" >"$work/layer"
layer_digest="sha256:$(sha256sum "$work/layer" | cut -d' ' -f1)"
layer_size="$(wc -c <"$work/layer")"

printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
  "$diff_id" >"$work/config"
config_digest="sha256:$(sha256sum "$work/config" | cut -d' ' -f1)"
config_size="$(wc -c <"$work/config")"

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}' \
  "$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$work/manifest"
manifest_digest="sha256:$(sha256sum "$work/manifest" | cut -d' ' -f1)"

# Uploads one blob (monolithic: POST, then PUT ?digest=), unless the registry has it already.
push_blob() {
  local file="$1" digest="$2" location
  if curl -fsS -o /dev/null -I "$base_url/v2/$repository/blobs/$digest" 2>/dev/null; then
    return
  fi
  location="$(curl -fsS -o /dev/null -D - -X POST "$base_url/v2/$repository/blobs/uploads/" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')"
  [[ -n "$location" ]] || { echo "registry returned no upload location" >&2; exit 1; }
  [[ "$location" == /* ]] && location="$base_url$location"
  if [[ "$location" == *\?* ]]; then location="$location&digest=$digest"; else location="$location?digest=$digest"; fi
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$file" "$location"
}

push_blob "$work/config" "$config_digest"
push_blob "$work/layer" "$layer_digest"
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary "@$work/manifest" "$base_url/v2/$repository/manifests/$tag"
echo "$manifest_digest"
