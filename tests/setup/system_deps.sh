#!/usr/bin/env bash
# Installs the real components the tests start (a fresh CI machine runs as root and has none):
# mosquitto (the MQTT tests' broker), chromium + chromium-driver (the web page's browser test).
# Idempotent: does nothing when every command is already there.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "tests need ${need[*]}: install them (apt-get install ${need[*]}) or run as root" >&2
  exit 1
fi
echo "installing ${need[*]} (Debian packages) for the tests..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the package starts a broker on 1883 as a service on some machines; the tests start their own
systemctl disable --now mosquitto >/dev/null 2>&1 || true
