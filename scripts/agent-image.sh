#!/bin/sh
# agent-image.sh - build a tiny local container image that holds
# clawsweep-agent and the shared libraries it links, for the docker and
# podman runtimes (README "Running agents in containers") and the e2e
# tests. No registry is needed: the image is imported from a rootfs tar.
#
#   scripts/agent-image.sh [-c podman|docker] [-t TAG] [AGENT_BIN]
#
# AGENT_BIN defaults to build/clawsweep-agent, TAG to
# localhost/clawsweep-agent:latest, the CLI to podman. The image's PATH
# holds /usr/local/bin, so runtime.agent = clawsweep-agent works in it.
# Prints the tag on success.
set -eu

cli=podman
tag=localhost/clawsweep-agent:latest
while getopts c:t: opt; do
    case $opt in
    c) cli=$OPTARG ;;
    t) tag=$OPTARG ;;
    *) echo "usage: $0 [-c podman|docker] [-t TAG] [AGENT_BIN]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
agent=${1:-build/clawsweep-agent}

if [ ! -x "$agent" ]; then
    echo "agent-image: $agent is not an executable (run make first)" >&2
    exit 1
fi
command -v "$cli" >/dev/null 2>&1 || {
    echo "agent-image: $cli not found on PATH" >&2
    exit 1
}

root=$(mktemp -d "${TMPDIR:-/tmp}/clawsweep-rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT INT TERM

mkdir -p "$root/usr/local/bin" "$root/tmp" "$root/workspace" "$root/etc"
chmod 1777 "$root/tmp"
cp "$agent" "$root/usr/local/bin/clawsweep-agent"
# The dynamic loader and every library ldd names, at the same paths.
ldd "$agent" | awk '/=> \// { print $3 } /^[[:space:]]*\// { print $1 }' |
while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
echo "root:x:0:0:root:/:/usr/local/bin/clawsweep-agent" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

tar -C "$root" -cf - . |
    "$cli" import \
        --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
        --change 'WORKDIR /workspace' \
        --change 'CMD ["clawsweep-agent"]' \
        - "$tag" >/dev/null
echo "$tag"
