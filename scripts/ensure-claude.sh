#!/usr/bin/env bash
# Installs the pinned Claude Code CLI from npm (once, cached in the git-ignored .rdev/ folder of the repo, or under
# RDEV_CLAUDE_CACHE) for the session tests, and prints the path of its executable. The tests run it against a fake
# Messages API, so no model account is needed. SPEC section 7a was checked against this version: change both together.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.1.328
cache=${RDEV_CLAUDE_CACHE:-$PWD/.rdev/claude-cli}
dir="$cache/$version"
bin="$dir/node_modules/.bin/claude"

if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null | cut -d' ' -f1)" != "$version" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is needed to install the Claude Code CLI for the tests (install Node.js 18 or later)." >&2; exit 1; }
  echo "Installing @anthropic-ai/claude-code@$version for the session tests." >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$version" >&2
fi
echo "$bin"
