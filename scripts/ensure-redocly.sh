#!/usr/bin/env bash
# Installs the pinned Redocly CLI from npm (once, cached in the git-ignored .rdev/ folder of the repo, or under
# RDEV_REDOCLY_CACHE) for the OpenAPI lint test, and prints the path of its executable. docs/openapi.json passes its
# recommended rules at this version: change the pin and the document (or redocly.yaml) together.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/ensure-npm-tool.sh @redocly/cli 2.77.0 redocly "${RDEV_REDOCLY_CACHE:-$PWD/.rdev/redocly-cli}" \
  "for the OpenAPI lint test"
