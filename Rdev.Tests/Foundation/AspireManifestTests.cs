using System.Diagnostics;
using System.Text.Json.Nodes;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Foundation;

[Trait("Category", "Slow")]
public sealed class AspireManifestTests
{
    private const string Regenerate =
        "dotnet run --project Rdev.AppHost -- --publisher manifest --output-path ../aspire-manifest/aspire-manifest.json";

    [Fact]
    public async Task CommittedAspireManifestMatchesWhatTheAppHostPublishes()
    {
        // A sibling of aspire-manifest/, so the relative project paths inside come out the same.
        var output = Path.Combine(RepositoryRoot.Path, $"aspire-manifest-check-{Guid.NewGuid():N}");
        try
        {
            var appHost = Path.Combine(RepositoryRoot.Path, "Rdev.AppHost", "bin", RepositoryRoot.Configuration, "net10.0", "Rdev.AppHost.dll");
            var info = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { appHost, "--publisher", "manifest", "--output-path", Path.Combine(output, "aspire-manifest.json") },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.Combine(RepositoryRoot.Path, "Rdev.AppHost"),
            };
            // The manifest must not depend on the machine or the shell that produced it.
            info.Environment.Remove("Rdev__Postgres");
            info.Environment.Remove("ConnectionStrings__rdevdb");
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(process.ExitCode == 0, $"AppHost publish failed: {await stderr}{await stdout}");

            var published = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "aspire-manifest.json")));
            var committed = JsonNode.Parse(await File.ReadAllTextAsync(
                Path.Combine(RepositoryRoot.Path, "aspire-manifest", "aspire-manifest.json")));
            Assert.True(JsonNode.DeepEquals(published, committed),
                $"aspire-manifest/aspire-manifest.json is stale. Regenerate it from the repository root with: {Regenerate}\n" +
                $"Published:\n{published}");
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
