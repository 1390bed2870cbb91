#!/bin/sh
# Install the Debian packages clawsweep needs: "build" for make, "test" for
# make check. As root it runs apt-get; otherwise it prints the command.
set -eu
build_pkgs="gcc make meson ninja-build pkg-config scdoc libsqlite3-dev libinih-dev libcjson-dev libarchive-dev libcmocka-dev"
test_pkgs="sqlite3 valgrind clang podman runc uidmap tmux util-linux procps man-db findutils"

case "${1:-build}" in
  build) want="$build_pkgs" ;;
  test)  want="$test_pkgs" ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends $missing >&2
else
  echo "deps: missing packages:$missing" >&2
  echo "deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
