#!/usr/bin/env bash
# Packs the rdev CLI (Rdev.Cli) and installs it as a global dotnet tool from that package, or updates it: then
# `rdev` is on PATH (~/.dotnet/tools). Uses no package source but the local one. See docs/cli.md.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=.rdev/packages
rm -rf "$packages"
dotnet pack Rdev.Cli -c Release -o "$packages" -nologo -v quiet
config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat > "$config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="local" value="$PWD/$packages" /></packageSources></configuration>
XML
# Every pack is version 0.1.0: uninstall first so that the new package replaces the installed one.
dotnet tool uninstall --global Rdev.Cli >/dev/null 2>&1 || true
dotnet tool install --global --configfile "$config" Rdev.Cli
case ":$PATH:" in
  *":$HOME/.dotnet/tools:"*) ;;
  *) echo "Add ~/.dotnet/tools to PATH to run rdev: export PATH=\"\$PATH:\$HOME/.dotnet/tools\"" ;;
esac
