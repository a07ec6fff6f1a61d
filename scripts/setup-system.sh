#!/usr/bin/env bash
# Install the Debian packages freqprop's build, demo and tests need, if any are missing.
# Quiet when everything is already installed. Uses sudo when not run as root.
set -euo pipefail

packages=(libhdf5-dev pkg-config ngspice hdf5-tools slurm-wlm munge)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg -s "$p" >/dev/null 2>&1; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "setup-system: missing packages: ${missing[*]}; not root and no sudo to install them" >&2
    exit 1
fi

echo "setup-system: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
