#!/usr/bin/env bash
# Installs everything peerproof and its tests need on a Debian machine, as root.
# Idempotent: packages already present and an up-to-date node_modules are skipped,
# so a second run takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "bootstrap: must run as root (it installs Debian packages and the lab needs network namespaces)" >&2
  exit 1
fi

debian_packages=(
  frr gobgpd bird2 openbgpd   # the fabric routers peerproof tests against
  tcpdump tshark              # captures, and tshark as the independent dissector in golden tests
  iproute2 nftables iputils-ping iputils-arping procps psmisc
  libpcap-dev python3 make g++ # the `cap` addon (raw ARP/NDP frames) builds with node-gyp
  default-jre-headless        # allure-commandline
  chromium                    # the browser test of the report
  docker.io debootstrap       # docker lab backend: a private dockerd and images built from a debootstrap rootfs
)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian packages may start their own daemons; the lab runs its own instances per node.
for svc in frr bird openbgpd; do
  if command -v service >/dev/null && service "$svc" status >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
# openbgpd ships a systemd unit only (it starts once /etc/bgpd.conf exists): keep it off where
# systemd runs. Its privilege-separated processes chroot to _openbgpd's home (/run/openbgpd), which
# that unit would create; the lab's openbgpd kind makes it when missing.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl disable --now openbgpd.service >/dev/null 2>&1 || true
fi

stamp=node_modules/.bootstrap-stamp
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "bootstrap: installing npm packages"
  npm ci --no-fund --no-audit --loglevel=error
  touch "$stamp"
fi

# The prebuilt `peerproof decode` and `peerproof speaker` (bin/prebuilt.js): built now so their first
# runs do not pay for it; rebuilt by themselves whenever a source is newer, tsx when this fails.
node bin/prebuilt.js >/dev/null || echo "bootstrap: prebuilt decode/speaker not built (they run through tsx)"
