#!/usr/bin/env bash
# Installs one pinned npm package (once, cached in CACHE/VERSION) and prints the path of its executable; what the
# tests need from npm comes through here. A folder is used only once its install has finished (the marker file).
#   ensure-npm-tool.sh PACKAGE VERSION EXECUTABLE CACHE PURPOSE
set -euo pipefail
package=$1 version=$2 executable=$3 cache=$4 purpose=$5

dir="$cache/$version"
bin="$dir/node_modules/.bin/$executable"
if [ ! -x "$bin" ] || [ ! -f "$dir/.installed" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is needed to install $package $purpose (install Node.js 20 or later)." >&2; exit 1; }
  echo "Installing $package@$version $purpose." >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$package@$version" >&2
  touch "$dir/.installed"
fi
echo "$bin"
