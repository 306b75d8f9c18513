#!/usr/bin/env bash
# Runs a command in a private mount namespace where the named libraries are absent from
# the system library folder (an overlay with whiteouts), to check what a person without
# those packages sees. Needs root. Nothing outside the namespace changes.
#   .ci/without_libraries.sh libxcb-icccm.so.4 libxcb-keysyms.so.1 -- CMD ARGS...
set -euo pipefail
libdir=/lib/x86_64-linux-gnu
[ -d "$libdir" ] || libdir=/usr/lib64
libs=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do libs+=("$1"); shift; done
shift
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/upper" "$scratch/work"
for lib in "${libs[@]}"; do
    # A whiteout hides the soname link and the file it points to.
    for name in "$libdir/$lib" "$(readlink -f "$libdir/$lib")"; do
        base=$(basename "$name")
        [ -e "$scratch/upper/$base" ] || mknod "$scratch/upper/$base" c 0 0
    done
done
unshare --mount -- bash -c '
    mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$1"
    shift 2
    exec "$@"' _ "$libdir" "$scratch" "$@"
