#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs the PostgreSQL server, the pinned Claude Code CLI (npm, for
# the session tests) and Chromium (apt, for the web console's browser tests) when missing, starts a throw-away cluster on a free loopback port, builds in Release with
# warnings as errors, fails on any referenced package with a known vulnerability, runs every test, and prints
# "N passed, N failed, N skipped". Stops the cluster on exit. Exits non-zero when any test fails.
#   --fast   leaves out the Slow tests (those that run commands or start processes, the AppHost, chaos and outages) and
#            the vulnerable-package check, for a quick check while working; the full run, without it, is what CI runs.
# Any other arguments go to dotnet test (e.g. --filter "FullyQualifiedName~Rdev.Tests.Keys").
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-postgres.sh
bin=$(scripts/pg-bin.sh)
# The Claude session tests drive the real, pinned Claude Code CLI.
RDEV_TEST_CLAUDE=$(scripts/ensure-claude.sh)
export RDEV_TEST_CLAUDE
# The web console's browser tests drive the system's Chromium and keep their screenshots after the run.
RDEV_TEST_CHROMIUM=$(scripts/ensure-chromium.sh)
export RDEV_TEST_CHROMIUM
export RDEV_TEST_SCREENSHOTS="${RDEV_TEST_SCREENSHOTS:-$PWD/TestResults/screenshots}"
# The OpenAPI lint test runs the pinned Redocly CLI (npm).
RDEV_TEST_REDOCLY=$(scripts/ensure-redocly.sh)
export RDEV_TEST_REDOCLY

work=$(mktemp -d -t rdev-test-XXXXXX)
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  chown postgres:postgres "$work"
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((20000 + RANDOM % 20000))
while ! port_free "$port"; do port=$((20000 + RANDOM % 20000)); done

password=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$password" > "$work/pw"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work/pw"

stop_cluster() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop_cluster EXIT

"${as_pg[@]}" "$bin/initdb" -D "$work/data" -U postgres -E UTF8 --no-locale \
  --auth=scram-sha-256 --pwfile="$work/pw" >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w -t 60 start -o \
  "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300 -c fsync=off" >/dev/null
echo "Test PostgreSQL cluster on 127.0.0.1:$port"

export RDEV_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password"

# Benchmarks (load harnesses for docs/benchmarks.md) run only when asked for with a --filter of their own.
filter=(--filter "Category!=Benchmark")
args=()
fast=0
for arg in "$@"; do
  case "$arg" in
    --fast) fast=1; filter=(--filter "Category!=Benchmark&Category!=Slow") ;;
    --filter) filter=(); args+=("$arg") ;;
    *) args+=("$arg") ;;
  esac
done

dotnet build Rdev.sln -c Release -warnaserror -nologo -v quiet

# Its warning (when no source serves vulnerability data) is repeated under the summary, where it cannot be missed.
# --fast leaves it to the full run: it takes a few seconds and the packages rarely change while you work.
if [ "$fast" = 1 ]; then
  vulnerabilities="WARNING: --fast skipped the vulnerable-package check; the full run (CI) does it."
else
  vulnerabilities=$(scripts/check-vulnerable-packages.sh 2>&1) || { echo "$vulnerabilities"; exit 1; }
fi
echo "$vulnerabilities"

results="$work/results"
set +e
dotnet test Rdev.sln -c Release --no-build --nologo --logger "trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "${filter[@]}" ${args[@]+"${args[@]}"}
status=$?
set -e

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ -d "$RDEV_TEST_SCREENSHOTS" ]; then echo "Browser screenshots: $RDEV_TEST_SCREENSHOTS"; fi
echo "$passed passed, $failed failed, $skipped skipped"
grep '^WARNING' <<<"$vulnerabilities" || true
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
