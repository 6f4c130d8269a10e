#!/usr/bin/env bash
# Tools of the co-simulation speed benchmark (`make bench`): Icarus Verilog
# (Debian) and cocotb (PyPI), at pinned versions. Installs what is missing when
# run as root; otherwise names exactly what to install and fails.
set -euo pipefail
ICARUS_DEB=11.0-1.1+b1   # Debian bookworm's iverilog (Icarus Verilog 11.0)
COCOTB=2.0.1             # supports Python 3.9+ and Icarus 11.0+

have_icarus=$(dpkg-query -W -f='${Version}' iverilog 2>/dev/null || true)
have_cocotb=$(python3 -c 'import cocotb; print(cocotb.__version__)' 2>/dev/null || true)
need_apt=(); need_pip=()
command -v iverilog >/dev/null && [ -n "$have_icarus" ] || need_apt+=("iverilog=$ICARUS_DEB")
[ "$have_cocotb" = "$COCOTB" ] || need_pip+=("cocotb==$COCOTB")

if [ ${#need_apt[@]} -gt 0 ] || [ ${#need_pip[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "bench/setup: missing tools; run as root:" >&2
        [ ${#need_apt[@]} -gt 0 ] && echo "  apt-get install -y ${need_apt[*]}" >&2
        [ ${#need_pip[@]} -gt 0 ] && echo "  $(command -v python3) -m pip install ${need_pip[*]}" >&2
        exit 1
    fi
    if [ ${#need_apt[@]} -gt 0 ]; then
        echo "bench/setup: installing ${need_apt[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    fi
    if [ ${#need_pip[@]} -gt 0 ]; then
        echo "bench/setup: installing ${need_pip[*]}"
        python3 -m pip install -q --root-user-action=ignore "${need_pip[@]}"
    fi
fi
have_icarus=$(dpkg-query -W -f='${Version}' iverilog)
[ "$have_icarus" = "$ICARUS_DEB" ] || echo "bench/setup: warning: iverilog $have_icarus installed, benchmark pinned to $ICARUS_DEB" >&2
echo "bench/setup: $(iverilog -V 2>&1 | head -1) (Debian iverilog $have_icarus)," \
     "cocotb $(python3 -c 'import cocotb; print(cocotb.__version__)'), $(python3 --version)"
