#!/usr/bin/env bash
# Installs Chromium (Debian/Ubuntu package) when it is missing and prints the path of its executable. The web
# console's browser tests drive it through Playwright; Playwright never downloads a browser of its own.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
  echo "Chromium not found; installing it with apt-get for the web console's browser tests." >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq chromium >/dev/null
fi
command -v chromium
