using k8s;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Rdev.Discovery;

namespace Rdev.Tests.Discovery;

/// <summary>
/// The discovery service in-process against a real Postgres database, with its logs kept in a
/// <see cref="FakeLogCollector"/>; in kubernetes mode its one <see cref="IKubernetes"/> talks to the given server.
/// </summary>
public sealed class DiscoveryFactory(string connectionString, IDictionary<string, string?> settings, KubernetesClientConfiguration? kubernetes = null)
    : WebApplicationFactory<DiscoveryMarker>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("ConnectionStrings:rdevdb", connectionString);
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddFakeLogging(options => options.OutputSink = null));
        if (kubernetes is not null)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(kubernetes));
        }
    }

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    /// <summary>Messages logged at <paramref name="level"/> or above.</summary>
    public IReadOnlyList<string> Messages(LogLevel level) =>
        [.. Logs.GetSnapshot().Where(r => r.Level >= level).Select(r => r.Message)];
}
