#!/usr/bin/env bash
# Benchmarks for chapter 04, side by side with the tools people already have, through to
# unpacked layers:
#  1. `ch04-images load` of an OCI layout (five gzip layers, ~100 MB compressed) against
#     `umoci unpack` of the same layout and `gzip -dc` of its layers one after another;
#  2. `ch04-images load` of the same image as a `docker save` archive (plain layers) against
#     `docker load` (Debian's docker.io; a dockerd of its own on a private socket);
#  3. `ch04-images pull` of the image from a registry on loopback (Debian's docker-registry)
#     into an empty store, against `docker pull` and `skopeo copy` + `umoci unpack`.
#   sudo scripts/bench-images.sh [oci|docker|pull|all] [RUNS]
# The binary is built in $CARGO_TARGET_DIR (or ./target).
# Needs hyperfine, umoci, docker-registry and (for 2 and 3) docker.io and skopeo. The image is built once from directories of
# this machine (DOCKYARD_BENCH_LAYERS) and cached in $DOCKYARD_BENCH_IMAGE.
set -euo pipefail
what=${1:-all}
runs=${2:-5}
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "$0: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: unpacking with owners needs root; run with sudo" >&2; exit 1; }

cargo build --release -q -p ch04-images
ch04=${CARGO_TARGET_DIR:-$PWD/target}/release/ch04-images
image=${DOCKYARD_BENCH_IMAGE:-/var/tmp/dockyard-bench-image}
layers=${DOCKYARD_BENCH_LAYERS:-usr/lib/python3.11 usr/lib/gcc usr/share/vim usr/lib/git-core usr/share/locale}
work=$(mktemp -d /var/tmp/dockyard-bench.XXXXXX)
cleanup() {
    [ -f "$work/registry.pid" ] && kill "$(cat "$work/registry.pid")" 2>/dev/null
    [ -f "$work/docker.pid" ] && kill "$(cat "$work/docker.pid")" 2>/dev/null && sleep 2
    umount -R "$work/docker" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The image: one gzip layer per directory, an OCI layout and a docker archive of it.
if [ ! -s "$image/docker.tar" ]; then
    echo "building the benchmark image in $image (once)..." >&2
    rm -rf "$image" && mkdir -p "$image/layout/blobs/sha256"
    python3 - "$image" $layers <<'PY'
import gzip, hashlib, json, os, subprocess, sys
image, dirs = sys.argv[1], sys.argv[2:]
blobs = os.path.join(image, "layout", "blobs", "sha256")
def put(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)
layers, diff_ids = [], []
for d in dirs:
    tar = subprocess.run(["tar", "-C", "/", "--sort=name", "-cf", "-", d], check=True, capture_output=True).stdout
    diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
    digest, size = put(gzip.compress(tar, compresslevel=6, mtime=0))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/true"]},
          "rootfs": {"type": "layers", "diff_ids": diff_ids}}
cdigest, csize = put(json.dumps(config).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
            "layers": layers}
mdigest, msize = put(json.dumps(manifest).encode())
index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": mdigest, "size": msize, "annotations": {"org.opencontainers.image.ref.name": "docker.io/library/bench:latest"}}]}
with open(os.path.join(image, "layout", "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(image, "layout", "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(image, "layers"), "w") as f:
    f.write("\n".join(os.path.join(blobs, l["digest"][7:]) for l in layers) + "\n")
PY
    "$ch04" --root "$work/build" load -i "$image/layout" >/dev/null
    "$ch04" --root "$work/build" save -o "$image/docker.tar" bench:latest
    rm -rf "$work/build"
fi
compressed=$(cat "$image/layers" | xargs stat -c %s | paste -sd+ | bc)
plain=$(stat -c %s "$image/docker.tar")
echo "image: $(wc -l < "$image/layers") layers, $((compressed / 1000000)) MB gzip, $((plain / 1000000)) MB as a docker archive" >&2

# A table of the runs: median and fastest wall time, the CPU time (user + system, mean, of
# the command and its children: not of dockerd, nor of the registry), MB/s of the image, and
# the median against that of serial `gzip -dc` when it ran in the same group.
report() {
    python3 - "$1" "$2" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
size = int(sys.argv[2]) / 1e6
gzip = next((r["median"] for r in results if r["command"].startswith("gzip -dc")), None)
print(f"{'command':<40}{'median':>10}{'min':>10}{'cpu':>10}{'MB/s':>8}{'x gzip':>8}")
for r in results:
    ratio = f"{r['median'] / gzip:>8.2f}" if gzip else ""
    cpu = r["user"] + r["system"]
    print(f"{r['command']:<40}{r['median']:>9.2f}s{r['min']:>9.2f}s{cpu:>9.2f}s{size / r['median']:>8.0f}{ratio}")
PY
}

# Every run unpacks into a fresh directory; the previous one is moved aside and flushed.
aside="mkdir -p $work/aside; for d in $work/store $work/umoci; do [ ! -e \$d ] || mv \$d $work/aside/\$(date +%s%N); done; sync"

if [ "$what" = oci ] || [ "$what" = all ]; then
    commands=(-n "ch04-images load (OCI layout)" "$ch04 --root $work/store load -i $image/layout")
    if command -v umoci >/dev/null; then
        commands+=(-n "umoci unpack" "umoci unpack --image $image/layout:docker.io/library/bench:latest $work/umoci")
    fi
    commands+=(-n "gzip -dc of each layer > /dev/null" "xargs -a $image/layers -n1 sh -c 'gzip -dc \"\$0\" > /dev/null'")
    hyperfine --runs "$runs" --warmup 1 --prepare "$aside" --export-json "$work/oci.json" "${commands[@]}" >&2
    echo "OCI layout (MB/s of gzip layers):"
    report "$work/oci.json" "$compressed"
fi

start_dockerd() {
    [ -f "$work/docker.pid" ] && return 0
    command -v dockerd >/dev/null || return 1
    export DOCKER_HOST=unix://$work/docker.sock
    dockerd --data-root "$work/docker" --exec-root "$work/exec" -H "$DOCKER_HOST" --pidfile "$work/docker.pid" \
        --iptables=false --bridge=none >"$work/dockerd.log" 2>&1 &
    for _ in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
}

if [ "$what" = docker ] || [ "$what" = all ]; then
    commands=(-n "ch04-images load (docker archive)" "$ch04 --root $work/store load -i $image/docker.tar")
    if start_dockerd; then
        commands+=(-n "docker load" "docker load -q -i $image/docker.tar")
        dprepare="; docker rmi -f bench:latest >/dev/null 2>&1 || true"
    fi
    hyperfine --runs "$runs" --warmup 1 --prepare "$aside${dprepare:-}" --export-json "$work/docker.json" "${commands[@]}" >&2
    echo "docker archive (MB/s of plain layers):"
    report "$work/docker.json" "$plain"
fi

if [ "$what" = pull ] || [ "$what" = all ]; then
    command -v docker-registry >/dev/null || { echo "$0: pull needs docker-registry (apt-get install docker-registry)" >&2; exit 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
        "$work/registry" "$port" >"$work/registry.yml"
    docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
    echo $! >"$work/registry.pid"
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
    ref=127.0.0.1:$port/bench/image:latest
    export DOCKER_CONFIG=$work/docker-config
    "$ch04" --root "$work/push" load -i "$image/layout" >/dev/null
    "$ch04" --root "$work/push" tag bench:latest "$ref"
    "$ch04" --root "$work/push" push "$ref" >/dev/null
    commands=(-n "ch04-images pull" "$ch04 --root $work/store pull $ref")
    # The reference, measured beside the pulls, under the same load.
    commands+=(-n "gzip -dc of each layer > /dev/null" "xargs -a $image/layers -n1 sh -c 'gzip -dc \"\$0\" > /dev/null'")
    if start_dockerd; then
        commands+=(-n "docker pull" "docker pull -q $ref")
        # bench:latest too: loaded by the docker section, it would keep every layer there.
        dprepare="; docker rmi -f $ref bench:latest >/dev/null 2>&1 || true"
    fi
    if command -v skopeo >/dev/null && command -v umoci >/dev/null; then
        commands+=(-n "skopeo copy + umoci unpack" "sh -c 'skopeo copy -q --insecure-policy --src-tls-verify=false docker://$ref oci:$work/umoci-layout:latest && umoci unpack --image $work/umoci-layout:latest $work/umoci'")
        uprepare="; rm -rf $work/umoci-layout"
    fi
    hyperfine --runs "$runs" --warmup 1 --prepare "$aside${dprepare:-}${uprepare:-}" --export-json "$work/pull.json" "${commands[@]}" >&2
    echo "pull from a loopback registry (MB/s of gzip layers):"
    report "$work/pull.json" "$compressed"
fi
