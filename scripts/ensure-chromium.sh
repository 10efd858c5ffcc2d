#!/usr/bin/env bash
# Makes sure a system Chromium exists for the Playwright tests.
# We use Debian's chromium instead of `npx playwright install`: the browser comes from the
# same apt mirror as everything else and needs no download from Playwright's CDN.
set -euo pipefail

chromium="${PARLEY_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$chromium" ]; then
  exit 0
fi

# apt can only provide /usr/bin/chromium, and only as root; anything else is the user's to fix.
if [ -n "${PARLEY_CHROMIUM:-}" ] || [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is missing: run 'sudo apt-get install -y chromium' (Debian) or set PARLEY_CHROMIUM to a Chromium binary." >&2
  exit 1
fi

echo "Installing Chromium with apt-get..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "Installed Chromium at $chromium" >&2
