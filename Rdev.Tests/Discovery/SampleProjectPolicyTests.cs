using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Rdev.Tests.Discovery;

/// <summary>
/// The AppHost's sample project keeps allowing shell now that a workspace file cannot grant it: the AppHost pins it
/// for discovery. Real discovery runs with the environment the AppHost gives the discovery resource.
/// </summary>
[Trait("Category", "Slow")]
public sealed class SampleProjectPolicyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task TheAppHostsSampleProjectAllowsShellThroughTheOperatorPin()
    {
        var state = Directory.CreateTempSubdirectory("rdev-apphost-");
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Rdev_AppHost>(
                ["Rdev:Postgres=external", "ConnectionStrings:rdevdb=Host=unused", $"Rdev:StateDirectory={state.FullName}"]).WaitAsync(Timeout);
            await using var app = await builder.BuildAsync().WaitAsync(Timeout);
            var discovery = app.Services.GetRequiredService<DistributedApplicationModel>().Resources
                .OfType<IResourceWithEnvironment>().Single(r => r.Name == "discovery");
            var settings = await RdevSettingsAsync(app, discovery);

            await using var h = await DiscoveryHarness.StartLocalAsync(settings["Rdev:Local:ProjectsRoot"]!, settings);
            var hello = await h.WaitForStatusAsync("hello", "running");

            Assert.Equal("claude,git,shell", string.Join(",", hello.AllowedCommands));
            Assert.Equal("Sample project created by the rdev AppHost", hello.Description);
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }

    /// <summary>The plain <c>Rdev__*</c> environment the AppHost sets on a resource, as configuration keys.</summary>
    private static async Task<Dictionary<string, string?>> RdevSettingsAsync(DistributedApplication app, IResourceWithEnvironment resource)
    {
        var context = new EnvironmentCallbackContext(app.Services.GetRequiredService<DistributedApplicationExecutionContext>());
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context).WaitAsync(Timeout);
        }

        return context.EnvironmentVariables
            .Where(e => e.Key.StartsWith("Rdev__", StringComparison.Ordinal) && e.Value is string)
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
    }
}
