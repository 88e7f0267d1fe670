#!/usr/bin/env bash
# deps.sh -- install every Debian package mullama needs to build and test.
# Idempotent: installs only what is missing.  Needs root (or sudo).
set -eu
pkgs="build-essential pkg-config git clang libclang-rt-14-dev
python3-venv
libssl-dev libpcre2-dev libcjson-dev libcurl4-openssl-dev libarchive-dev
libreadline-dev libmicrohttpd-dev zlib1g-dev libopenblas-dev
libvulkan-dev glslc mesa-vulkan-drivers vulkan-tools
python3 python3-pip python3-numpy python3-jsonschema tmux groff-base curl ca-certificates zstd
zsh fish man-db
gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static"
missing=""
for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                missing="$missing $p"
done
[ -z "$missing" ] && { echo "deps: all packages present" >&2; exit 0; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "deps: installing$missing" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
