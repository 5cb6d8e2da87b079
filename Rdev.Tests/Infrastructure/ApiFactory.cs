using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Rdev.Api;

namespace Rdev.Tests.Infrastructure;

/// <summary>The API in-process against a real Postgres database, with any extra configuration a test needs.</summary>
public sealed class ApiFactory(string connectionString, IDictionary<string, string?>? settings = null)
    : WebApplicationFactory<ApiMarker>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("ConnectionStrings:rdevdb", connectionString);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }
}
