#!/usr/bin/env bash
# Prints the folder holding the newest PostgreSQL server binaries.
set -euo pipefail
newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$newest" ] && [ -x "$newest/postgres" ]; then
  echo "$newest"
elif command -v postgres >/dev/null 2>&1; then
  dirname "$(readlink -f "$(command -v postgres)")"
else
  echo "no PostgreSQL server binaries found" >&2
  exit 1
fi
