#!/usr/bin/env bash
# Builds the Dockerfile cases of chapters/05-dockerfile/tests/docker-build/ with Docker and
# compares the images (and, for the cases with a case.bust file, the legacy builder's output)
# with Dockyard's:
#   sudo scripts/compare-docker-build.sh [--record] [CASE...]
# With --record, Docker's summaries are written as each case's expected.json (and its output
# as expected-output.txt), which chapters/05-dockerfile/tests/docker_build.rs checks against;
# without it, each case is also built by target/debug/ch05-dockerfile and the two summaries
# (scripts/image-summary.py, both sides) are diffed.
#
# A case is a build context plus harness files the build never sees (copied out first):
#   case.args      extra `build` arguments, one a line (--build-arg, A=1, --target, s, ...)
#   case.requires  cases to build first (each case's image is tagged dockyard-case-CASE)
#   case.buildkit  build with BuildKit (DOCKER_BUILDKIT=1): the case needs it
#   case.setup.sh  run in the copied context first (symlinks, modes, owners git cannot hold)
#   case.bust      a context file: record the output of a first build, an unchanged rebuild
#                  and a rebuild after a line is appended to that file
# Every case builds FROM scratch or the test fixture image dockyard-base:latest (the busybox
# image of tests/src/images.rs, written by `cargo run -p dockyard-tests --example base-image`,
# the same bytes both builders load).
# Needs Debian's docker.io (a dockerd of its own is started on a private socket and stopped
# afterwards), umoci and skopeo, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
record=0
if [ "${1:-}" = --record ]; then record=1; shift; fi
. scripts/lib/private-dockerd.sh
# Debian's client, the daemon's version (a newer client elsewhere on PATH may lack the legacy
# builder's output or BuildKit without buildx).
docker=${DOCKER:-/usr/bin/docker}
export DOCKER=$docker
cases_dir=chapters/05-dockerfile/tests/docker-build
target=${CARGO_TARGET_DIR:-target}
cargo build -q -p dockyard-tests --example base-image
[ $record = 1 ] || cargo build -q -p ch05-dockerfile
dockyard=$(realpath "$target/debug/ch05-dockerfile" 2>/dev/null || true)
summary=$(realpath scripts/image-summary.py)

work=$(mktemp -d /tmp/dockyard-compare-build.XXXXXX)
cleanup() {
    stop_private_dockerd "$work"
    rm -rf "$work"
}
trap cleanup EXIT
"$target/debug/examples/base-image" "$work/base.tar" dockyard-base:latest
start_private_dockerd "$work"
"$docker" load -q -i "$work/base.tar" >/dev/null
if [ $record = 0 ]; then
    "$dockyard" --root "$work/root" load -i "$work/base.tar" >/dev/null
fi

# The context of a case, copied without its harness files, its setup run.
context() {
    local case=$1 dir=$work/context/$1
    rm -rf "$dir" && mkdir -p "$dir"
    tar -C "$cases_dir/$case" --exclude='./case.*' --exclude='./expected*' -cf - . | tar -C "$dir" -xf -
    if [ -f "$cases_dir/$case/case.setup.sh" ]; then (cd "$dir" && sh "$OLDPWD/$cases_dir/$case/case.setup.sh"); fi
    echo "$dir"
}

# The legacy builder's output with what changes from run to run written <id> and <size>; the
# test normalizes Dockyard's output the same way.
# The lines of docker's output that come from its daemon, which Dockyard has not (the test's
# `without_daemon_lines` does the same, and the book says why): the context being sent, and a
# container made and removed with nothing printed in between (one per config-only step).
without_daemon_lines() {
    awk '/^Sending build context to Docker daemon/ { next }
         /^ ---> Running in / { held = $0; next }
         held != "" && /^Removing intermediate container/ { held = ""; next }
         held != "" { print held; held = "" }
         { print }
         END { if (held != "") print held }'
}

# A summary as it is compared: a case recorded with BuildKit (case.buildkit) is compared
# without its history, whose created_by BuildKit writes its own way (`COPY … # buildkit`); the
# test's HISTORY_NOT_COMPARED does the same.
comparable() {
    if [ -f "$cases_dir/$1/case.buildkit" ]; then grep -v '"created_by"'; else cat; fi
}

normalize_output() {
    sed -E -e 's/\r+$//' -e 's/.*\r//' \
        -e 's/^(Sending build context to Docker daemon ).*/\1 <size>/' \
        -e 's/^( ---> (Running in )?)[0-9a-f]{12}$/\1<id>/' \
        -e 's/^(Removing intermediate container |Successfully built )[0-9a-f]{12}$/\1<id>/'
}

# build ENGINE CASE DIR: builds the context DIR as dockyard-case-CASE, output on stdout.
build() {
    local engine=$1 case=$2 dir=$3 args=()
    [ -f "$cases_dir/$case/case.args" ] && mapfile -t args <"$cases_dir/$case/case.args"
    local buildkit=0
    [ -f "$cases_dir/$case/case.buildkit" ] && buildkit=1
    if [ "$engine" = docker ]; then
        (cd "$dir" && DOCKER_BUILDKIT=$buildkit "$docker" build -t "dockyard-case-$case" "${args[@]}" . 2>&1)
    else
        (cd "$dir" && "$dockyard" --root "$work/root" build -t "dockyard-case-$case" "${args[@]}" . 2>&1)
    fi
}

# save ENGINE CASE: the image's summary on stdout.
save() {
    local engine=$1 case=$2 archive=$work/$1-$2.tar
    if [ "$engine" = docker ]; then
        "$docker" save -o "$archive" "dockyard-case-$case"
    else
        "$dockyard" --root "$work/root" save -o "$archive" "dockyard-case-$case"
    fi
    python3 "$summary" --base "$work/base.tar" "$archive"
}

# The rebuilds of a case.bust case, their output normalized, after its first build's: one with
# nothing changed (every step from the cache), one after a line is appended to the case.bust
# file (the cache used up to the step that reads it).
rebuilds() {
    local engine=$1 case=$2 dir=$3 bust
    bust=$(cat "$cases_dir/$case/case.bust")
    echo "# rebuild, nothing changed"
    build "$engine" "$case" "$dir" | normalize_output
    echo "changed" >>"$dir/$bust"
    echo "# rebuild after $bust changed"
    build "$engine" "$case" "$dir" | normalize_output
}

status=0
declare -A done
run_case() {
    local case=$1 dir required
    [ -n "${done[$case]:-}" ] && return
    done[$case]=1
    if [ -f "$cases_dir/$case/case.requires" ]; then
        for required in $(cat "$cases_dir/$case/case.requires"); do run_case "$required"; done
    fi
    local engines=(docker)
    [ $record = 1 ] || engines+=(dockyard)
    for engine in "${engines[@]}"; do
        dir=$(context "$case")
        build "$engine" "$case" "$dir" >"$work/$engine-$case.log" || true
        if ! save "$engine" "$case" >"$work/$engine-$case.json"; then
            echo "FAILED:  $case ($engine): the build failed:"; sed 's/^/    /' "$work/$engine-$case.log"; status=1
            return
        fi
        if [ -f "$cases_dir/$case/case.bust" ]; then
            { echo "# first build"; normalize_output <"$work/$engine-$case.log"; rebuilds "$engine" "$case" "$dir"; } \
                >"$work/$engine-$case.out"
        fi
    done
    if [ $record = 1 ]; then
        cp "$work/docker-$case.json" "$cases_dir/$case/expected.json"
        [ -f "$cases_dir/$case/case.bust" ] && cp "$work/docker-$case.out" "$cases_dir/$case/expected-output.txt"
        echo "recorded: $case"
    elif diff -u --label "docker $case" --label "dockyard $case" <(comparable "$case" <"$work/docker-$case.json") \
        <(comparable "$case" <"$work/dockyard-$case.json"); then
        if [ -f "$cases_dir/$case/case.bust" ] && ! diff -u --label "docker $case output" --label "dockyard $case output" \
            <(without_daemon_lines <"$work/docker-$case.out") <(without_daemon_lines <"$work/dockyard-$case.out"); then
            status=1
        else
            echo "same:    $case"
        fi
    else
        echo "differs: $case"; status=1
    fi
}
if [ $# = 0 ]; then set -- $(cd "$cases_dir" && ls -d */ | tr -d /); fi
for case in "$@"; do
    [ -f "$cases_dir/$case/Dockerfile" ] || { echo "$0: no case $case in $cases_dir" >&2; exit 2; }
    run_case "$case"
done
exit $status
