#!/usr/bin/env bash
# Fails when Rdev.sln references, directly or transitively, a package with a known vulnerability. NuGet learns about
# vulnerabilities from a source's VulnerabilityInfo resource; a source without one (a plain mirror) reports "no
# vulnerable packages" whatever is referenced, so this says loudly when no source could have told.
set -euo pipefail
cd "$(dirname "$0")/.."

report=$(dotnet list Rdev.sln package --vulnerable --include-transitive 2>&1) || {
  echo "$report"
  echo "Vulnerable-package check: 'dotnet list package --vulnerable' failed." >&2
  exit 1
}

if grep -q "has the following vulnerable packages" <<<"$report"; then
  echo "$report"
  echo "Vulnerable-package check: a referenced package has a known vulnerability (above). Update it." >&2
  exit 1
fi

# The sources dotnet used are listed indented under "The following sources were used:".
served=no
sources=$(sed -n '/The following sources were used:/,/^$/p' <<<"$report" | grep -Eo 'https?://[^ ]+' || true)
for source in $sources; do
  if curl -fsS --max-time 20 "$source" 2>/dev/null | grep -q '"VulnerabilityInfo'; then
    served=yes
  fi
done

if [ "$served" = yes ]; then
  echo "Vulnerable-package check: no known vulnerabilities."
else
  echo "WARNING: vulnerable-package check could not run: no package source serves vulnerability data" \
    "(no VulnerabilityInfo resource in: ${sources:-no http source}), so known vulnerabilities go unseen. Run it against a source that serves them, such as nuget.org itself." >&2
fi
