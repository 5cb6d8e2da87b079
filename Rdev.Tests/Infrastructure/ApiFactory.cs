using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Api;

namespace Rdev.Tests.Infrastructure;

/// <summary>
/// One API replica in-process against a real Postgres database, with any extra configuration a test needs, and
/// optionally services replaced (e.g. the Kubernetes client configuration pointed at the fake API server). Tests
/// usually get one from <see cref="ApiHost"/>, which also owns the database.
/// </summary>
public sealed class ApiFactory(
    string connectionString,
    IDictionary<string, string?>? settings = null,
    Action<IServiceCollection>? configureServices = null)
    : WebApplicationFactory<ApiMarker>
{
    /// <summary>
    /// Starts the replica: in memory, or with <paramref name="kestrel"/> on a real loopback port, so clients see real
    /// sockets and the API a real peer address.
    /// </summary>
    public ApiFactory Start(bool kestrel = false)
    {
        if (kestrel)
        {
            UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        }

        StartServer();
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("ConnectionStrings:rdevdb", connectionString);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        if (configureServices is not null)
        {
            builder.ConfigureTestServices(configureServices);
        }
    }
}
