#!/usr/bin/env bash
# Installs the tools `make test` needs (Debian packages) when run as root;
# otherwise names exactly what to install and fails.
set -euo pipefail
need=()
command -v verilator >/dev/null || need+=(verilator)
command -v yosys >/dev/null || need+=(yosys)
command -v python3 >/dev/null || need+=(python3)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "setup: installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "setup: missing tools; run as root: apt-get install -y ${need[*]}" >&2
        exit 1
    fi
fi
major=$(verilator --version | sed -E 's/^Verilator ([0-9]+).*/\1/')
if [ "$major" -lt 5 ]; then
    echo "setup: Verilator >= 5 needed (Debian 'verilator' 5.006), found $(verilator --version)" >&2
    exit 1
fi
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (rustup)" >&2; exit 1; }
