#!/usr/bin/env bash
# Install the few Debian packages the tests' real crash clients load at run time when they are missing:
# Breakpad's minidump_upload dlopen()s libcurl. Best effort and idempotent: without root or apt it only says
# what is missing, and the tests that need it skip with that reason.
set -uo pipefail

missing=()
ldconfig -p 2>/dev/null | grep -q 'libcurl\(-gnutls\)\?\.so\.[34]' || missing+=(libcurl4)

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (Debian packages the real-client tests need)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }; } \
    || echo "ensure-system-packages: could not install ${missing[*]}; the tests that need them will skip" >&2
else
  echo "ensure-system-packages: missing ${missing[*]} (apt-get install ${missing[*]}); the tests that need them will skip" >&2
fi
exit 0
