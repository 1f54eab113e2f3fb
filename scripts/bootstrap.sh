#!/usr/bin/env bash
# Bootstraps what `make test` and `make demo` need on a fresh Debian 12 machine:
# Debian packages (when root and missing), a .venv, and the package with its extras.
# Usage: scripts/bootstrap.sh [test|demo]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-test}

# Debian packages each target needs. Tests: tshark is the ESP decryption oracle, iproute2
# makes the namespaces, strongSwan (charon with its userspace kernel-libipsec data plane) is
# the interop peer, nftables/conntrack make a NAT, iperf3 measures throughput (benchmarks),
# chromium is the real browser the web page's test drives (through Playwright, no download).
deb_common=(iproute2 iputils-ping python3-venv)
deb_test=(tshark strongswan-charon strongswan-swanctl libcharon-extra-plugins
          libstrongswan-standard-plugins nftables conntrack iperf3 chromium)
case $what in
    test) debs=("${deb_common[@]}" "${deb_test[@]}") ;;
    *) debs=("${deb_common[@]}") ;;
esac

missing=()
for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "bootstrap: installing Debian packages: ${missing[*]}"
        echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
        export DEBIAN_FRONTEND=noninteractive
        # strongSwan's packaged service must not start in the root namespace: the tests run
        # their own charon inside namespaces (policy-rc.d 101 = "don't start services")
        prc=/usr/sbin/policy-rc.d own_prc=0
        if [[ ! -e $prc ]]; then printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod 755 "$prc"; own_prc=1; fi
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || {
            ((own_prc)) && rm -f "$prc"; exit 1; }
        ((own_prc)) && rm -f "$prc"
    else
        echo "bootstrap: missing Debian packages (${missing[*]}); run as root to install them" >&2
    fi
fi

py=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    echo "bootstrap: creating .venv"
    "$py" -m venv .venv
fi
stamp=.venv/.installed-$what
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
    echo "bootstrap: installing pyipsec into .venv"
    .venv/bin/pip install -q --upgrade pip >/dev/null
    if [[ $what == test ]]; then
        .venv/bin/pip install -q -e '.[test]'
    else
        .venv/bin/pip install -q -e .
    fi
    touch "$stamp"
fi
