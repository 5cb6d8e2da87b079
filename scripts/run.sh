#!/usr/bin/env bash
# Runs rdev on this machine: the Aspire AppHost with its dashboard, Postgres, the API, discovery and the web console,
# on the embedded default (local runtime). Installs the PostgreSQL server first when neither it nor a
# container engine is available. Extra arguments go to the AppHost (e.g. Rdev:Postgres=container).
# Once the api is ready the AppHost prints its URL, the /docs URL and a ready `rdev login` line; the key in that line
# only when this script's output is a terminal (Rdev.AppHost/Welcome.cs), so it never lands in a log file.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker info >/dev/null 2>&1; then
  scripts/ensure-postgres.sh
fi

exec dotnet run --project Rdev.AppHost --launch-profile http -- "$@"
