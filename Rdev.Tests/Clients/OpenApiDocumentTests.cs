using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Clients;

/// <summary>
/// The OpenAPI document the API serves is what client generators and linters get: it passes the pinned Redocly CLI's
/// recommended rules, and docs/openapi.json (from which Rdev.Client is generated) is an exact copy of it.
/// </summary>
public sealed class OpenApiDocumentTests(OpenApiDocumentTests.Fixture fixture) : IClassFixture<OpenApiDocumentTests.Fixture>
{
    public const string LinterVariable = "RDEV_TEST_REDOCLY";

    /// <summary>Set to 1 to let <see cref="CommittedDocumentIsWhatTheApiServes"/> write docs/openapi.json.</summary>
    public const string UpdateVariable = "RDEV_UPDATE_OPENAPI";

    private const string Regenerate = "scripts/generate-client.sh (it refreshes docs/openapi.json and regenerates Rdev.Client)";

    private static readonly string Committed = Path.Combine(RepositoryRoot.Path, "docs", "openapi.json");

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly CommandsHost host = new();

        /// <summary>The document exactly as served, as text.</summary>
        public string Served { get; private set; } = "";

        public async Task InitializeAsync()
        {
            await host.InitializeAsync();
            Served = await host.StartApi().GetStringAsync("/openapi/v1.json");
        }

        public Task DisposeAsync() => host.DisposeAsync();
    }

    [Fact]
    public async Task CommittedDocumentIsWhatTheApiServes()
    {
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            await File.WriteAllTextAsync(Committed, fixture.Served.TrimEnd() + "\n");
        }

        // The server URL is relative ("/"), so the document is the same wherever it is served: nothing to normalize.
        var committed = File.Exists(Committed) ? JsonNode.Parse(await File.ReadAllTextAsync(Committed)) : null;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(fixture.Served), committed),
            $"docs/openapi.json is stale (or missing): it is not what the API serves at /openapi/v1.json. Regenerate it with {Regenerate}.");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task ServedDocumentPassesTheRecommendedLintRulesWithNoErrorOrWarning()
    {
        var linter = Environment.GetEnvironmentVariable(LinterVariable) is { Length: > 0 } path && File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"{LinterVariable} does not name the Redocly CLI. Run the tests with scripts/test.sh, which installs the pinned version.");
        var file = Path.Combine(Path.GetTempPath(), $"rdev-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, fixture.Served);
        try
        {
            // From the repository root, so the committed redocly.yaml (the recommended rules) applies.
            var info = new ProcessStartInfo(linter)
            {
                ArgumentList = { "lint", file, "--format", "json" },
                WorkingDirectory = RepositoryRoot.Path,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            info.Environment["REDOCLY_TELEMETRY"] = "off";
            info.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

            var report = JsonDocument.Parse(await stdout).RootElement;
            var problems = report.GetProperty("problems").EnumerateArray()
                .Select(p => $"{p.GetProperty("severity").GetString()} {p.GetProperty("ruleId").GetString()}: " +
                    $"{p.GetProperty("message").GetString()} at {string.Join(", ", p.GetProperty("location").EnumerateArray()
                        .Select(l => l.TryGetProperty("pointer", out var pointer) ? pointer.GetString() : "?"))}")
                .ToList();
            Assert.True(problems.Count == 0 && process.ExitCode == 0,
                $"redocly lint found {problems.Count} problem(s) in /openapi/v1.json (exit {process.ExitCode}):\n" +
                string.Join("\n", problems) + "\n" + await stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
