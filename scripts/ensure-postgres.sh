#!/usr/bin/env bash
# Installs the PostgreSQL server (Debian/Ubuntu package) when no server binaries are found.
# rdev's AppHost and tests run their own server process; the system service is not used.
set -euo pipefail

have_server() {
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && return 0
  command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1
}

if have_server; then
  exit 0
fi

echo "PostgreSQL server not found; installing it with apt-get." >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
have_server
