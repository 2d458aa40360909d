#!/bin/sh
# Idempotent setup for a fresh Debian machine: Deno, a Vulkan driver for WebGPU, Fashion-MNIST.
# Prints what it did and the WebGPU adapter it finds. Safe to run again: it skips what is present.
set -eu

say() { printf 'setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
has_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# 1. Deno 2 (from the npm registry).
if command -v deno >/dev/null 2>&1; then
  say "deno present: $(deno --version | head -n 1)"
else
  if ! command -v npm >/dev/null 2>&1; then
    say "installing npm (needed to install Deno)"
    apt_install npm
  fi
  say "installing Deno with npm (npm install -g deno@2)"
  as_root npm install -g --silent deno@2 >/dev/null
  say "installed $(deno --version | head -n 1)"
fi

# 2. A Vulkan driver: the machine's GPU driver if it has one, else Mesa's software driver (lavapipe).
icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null || true)
if [ -n "$icds" ] && has_pkg libvulkan1; then
  say "Vulkan driver present: $(echo "$icds" | tr '\n' ' ')"
else
  say "no Vulkan driver found: installing Mesa's software Vulkan (mesa-vulkan-drivers libvulkan1)"
  apt_install mesa-vulkan-drivers libvulkan1
fi

# 3. Fashion-MNIST (Debian's dataset-fashion-mnist).
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  say "Fashion-MNIST present in /usr/share/datasets/fashion-mnist"
else
  say "installing dataset-fashion-mnist"
  apt_install dataset-fashion-mnist
fi

# 4. Report the WebGPU adapter that Deno finds.
here=$(cd "$(dirname "$0")/.." && pwd)
: "${XDG_RUNTIME_DIR:=/tmp/xdg-$(id -u)}"
export XDG_RUNTIME_DIR
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
if deno run --quiet --allow-read --allow-env "$here/scripts/adapter.ts"; then
  :
else
  say "warning: no WebGPU adapter found (see the message above)"
  exit 1
fi
