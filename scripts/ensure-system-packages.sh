#!/usr/bin/env bash
# Install the few Debian packages the tests load at run time when they are missing: Breakpad's
# minidump_upload dlopen()s libcurl, and the pages' browser tests drive Debian's Chromium with Playwright
# (chromium-driver comes with it for WebDriver clients; no test ever downloads a browser of its own). Best effort
# and idempotent: without root or apt it only says what is missing, and the tests that need it skip with that reason.
set -uo pipefail

missing=()
ldconfig -p 2>/dev/null | grep -q 'libcurl\(-gnutls\)\?\.so\.[34]' || missing+=(libcurl4)
[ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (Debian packages the real-client and browser tests need)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }; } \
    || echo "ensure-system-packages: could not install ${missing[*]}; the tests that need them will skip" >&2
else
  echo "ensure-system-packages: missing ${missing[*]} (apt-get install ${missing[*]}); the tests that need them will skip" >&2
fi
exit 0
