#!/usr/bin/env python3
"""Builds a multi-layer image from installed Debian packages and pushes it to a registry.

    bench/pull_image.py --registry 127.0.0.1:5000 --repo bench/debian --tag 1.0 \
        --work DIR PACKAGE...

Each package becomes one gzip layer holding the files `dpkg -L` lists for it, with their
metadata as installed. Paths that run through the merged-/usr symlinks (/lib, /bin, ...) are
stored under their real directory, so no layer writes through a symlink. The image gets an OCI
config and manifest and is pushed to http://REGISTRY with the distribution API. The script
prints one line per layer and a summary: layers, unpacked bytes, compressed bytes, files.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import urllib.request


def package_paths(package):
    """Paths of `package` relative to /, parents first, each through its real directory."""
    listed = subprocess.run(["dpkg", "-L", package], check=True, capture_output=True,
                            text=True).stdout.splitlines()
    paths = set()
    for path in listed:
        if not path.startswith("/") or path == "/" or path.startswith("/."):
            continue
        if not os.path.lexists(path):
            continue  # diverted or removed since install
        real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        relative = real.lstrip("/")
        # Every directory on the way, so the layer creates its own parents.
        parts = relative.split("/")
        for depth in range(1, len(parts)):
            paths.add("/".join(parts[:depth]))
        paths.add(relative)
    return sorted(paths)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def build_layer(package, work):
    """Writes <work>/<package>.tar and .tar.gz; returns the layer's facts."""
    tar_path = os.path.join(work, package + ".tar")
    files = 0
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for relative in package_paths(package):
            tar.add("/" + relative, arcname=relative, recursive=False)
            files += 1
    gz_path = tar_path + ".gz"
    with open(tar_path, "rb") as src, open(gz_path, "wb") as dst:
        subprocess.run(["gzip", "-n", "-6"], stdin=src, stdout=dst, check=True)
    layer = {
        "package": package,
        "diff_id": sha256_file(tar_path),
        "unpacked": os.path.getsize(tar_path),
        "path": gz_path,
        "digest": sha256_file(gz_path),
        "size": os.path.getsize(gz_path),
        "files": files,
    }
    os.unlink(tar_path)
    return layer


def push_blob(registry, repo, path=None, data=None):
    if data is None:
        with open(path, "rb") as f:
            data = f.read()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = urllib.request.Request(f"http://{registry}/v2/{repo}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(start, timeout=60) as response:
        location = response.headers["Location"]
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    location += ("&" if "?" in location else "?") + "digest=" + digest
    put = urllib.request.Request(location, data=data, method="PUT",
                                 headers={"Content-Type": "application/octet-stream"})
    urllib.request.urlopen(put, timeout=300).close()
    return digest, len(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("packages", nargs="+")
    args = parser.parse_args()

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        layers = list(pool.map(lambda p: build_layer(p, args.work), args.packages))

    for layer in layers:
        push_blob(args.registry, args.repo, path=layer["path"])
        print(f"layer {layer['package']}: {layer['files']} entries, "
              f"{layer['unpacked']} bytes, {layer['size']} compressed", file=sys.stderr)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer["diff_id"] for layer in layers]},
    }
    config_digest, config_size = push_blob(args.registry, args.repo,
                                           data=json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer["digest"], "size": layer["size"]} for layer in layers],
    }
    put = urllib.request.Request(
        f"http://{args.registry}/v2/{args.repo}/manifests/{args.tag}",
        data=json.dumps(manifest).encode(), method="PUT",
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    urllib.request.urlopen(put, timeout=60).close()
    print(len(layers), sum(l["unpacked"] for l in layers), sum(l["size"] for l in layers),
          sum(l["files"] for l in layers))


if __name__ == "__main__":
    main()
