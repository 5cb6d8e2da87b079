#!/usr/bin/env bash
# Runs rdev on this machine: the Aspire AppHost with its dashboard, Postgres, the API, discovery and the web console,
# on the embedded default (local runtime). Installs the PostgreSQL server first when neither it nor a
# container engine is available. Extra arguments go to the AppHost (e.g. Rdev:Postgres=container).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker info >/dev/null 2>&1; then
  scripts/ensure-postgres.sh
fi

exec dotnet run --project Rdev.AppHost --launch-profile http -- "$@"
