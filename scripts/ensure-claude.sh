#!/usr/bin/env bash
# Installs the pinned Claude Code CLI from npm (once, cached in the git-ignored .rdev/ folder of the repo, or under
# RDEV_CLAUDE_CACHE) for the session tests, and prints the path of its executable. The tests run it against a fake
# Messages API, so no model account is needed. SPEC section 7a was checked against this version: change both together.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/ensure-npm-tool.sh @anthropic-ai/claude-code 2.1.328 claude "${RDEV_CLAUDE_CACHE:-$PWD/.rdev/claude-cli}" \
  "for the session tests"
