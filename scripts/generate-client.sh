#!/usr/bin/env bash
# Regenerates the OpenAPI document and the .NET client made from it, in two steps:
#  1. docs/openapi.json <- what the API serves at /openapi/v1.json: the test that compares the two
#     (Rdev.Tests/Clients/OpenApiDocumentTests.cs) runs in-process against a throw-away PostgreSQL cluster
#     (scripts/test.sh) with RDEV_UPDATE_OPENAPI=1, which makes it write the served document first; the lint test
#     runs beside it, so a document the linter rejects is reported here already.
#  2. Rdev.Client/Generated/ <- Kiota (the version pinned in .config/dotnet-tools.json) from docs/openapi.json.
# Commit docs/openapi.json and Rdev.Client/Generated/ together. Hand-written client code lives beside Generated/.
#   --client-only   skips step 1 (regenerates the client from the committed document).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--client-only" ]; then
  RDEV_UPDATE_OPENAPI=1 scripts/test.sh --filter "FullyQualifiedName~Rdev.Tests.Clients.OpenApiDocumentTests"
fi

dotnet tool restore >/dev/null
# Generating needs no network (Kiota's check for a newer release only warns when it cannot reach GitHub).
export KIOTA_TUTORIAL_ENABLED=false KIOTA_CLI_TELEMETRY_OPTOUT=true
# --clean-output empties Generated/, so keep its .editorconfig (it marks the folder as generated code).
editorconfig=$(cat Rdev.Client/Generated/.editorconfig)
dotnet kiota generate --language CSharp --openapi docs/openapi.json --output Rdev.Client/Generated \
  --class-name RdevApiClient --namespace-name Rdev.Client.Generated --exclude-backward-compatible --clean-output \
  --log-level Warning
printf '%s\n' "$editorconfig" > Rdev.Client/Generated/.editorconfig
rm -f Rdev.Client/Generated/.kiota.log
dotnet build Rdev.Client -c Release -warnaserror -nologo -v quiet
echo "Regenerated docs/openapi.json and Rdev.Client/Generated/."
