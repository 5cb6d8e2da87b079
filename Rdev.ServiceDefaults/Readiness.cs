using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rdev.Core;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// <c>/ready</c>: every check tagged <see cref="Extensions.ReadyTag"/>. 200 with each check's status when all pass,
/// else 503 <c>application/problem+json</c> with <c>code: NOT_READY</c> and the same per-check detail.
/// </summary>
public static class Readiness
{
    public static IHealthChecksBuilder AddDatabaseCheck(this IHealthChecksBuilder checks) =>
        checks.AddCheck<DatabaseHealthCheck>("database", tags: [Extensions.ReadyTag], timeout: TimeSpan.FromSeconds(5));

    public static IEndpointConventionBuilder MapReadinessEndpoint(this WebApplication app) =>
        app.MapHealthChecks(Extensions.ReadinessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(Extensions.ReadyTag),
            ResponseWriter = WriteAsync,
        });

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var checks = report.Entries.ToDictionary(
            entry => entry.Key,
            entry => new CheckResult(entry.Value.Status.ToString().ToLowerInvariant(), entry.Value.Description));
        if (report.Status == HealthStatus.Unhealthy)
        {
            var failing = string.Join(", ", checks.Where(c => c.Value.Status == "unhealthy").Select(c => c.Key));
            return Results.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Not ready",
                detail: $"Failing checks: {failing}.",
                extensions: new Dictionary<string, object?> { ["code"] = ProblemCodes.NotReady, ["checks"] = checks })
                .ExecuteAsync(context);
        }

        return context.Response.WriteAsJsonAsync(new ReadyReport(report.Status.ToString().ToLowerInvariant(), checks), JsonOptions);
    }

    private static readonly JsonSerializerOptions JsonOptions = Rdev.Core.RdevJson.Options;

    private sealed record CheckResult(string Status, string? Description);

    private sealed record ReadyReport(string Status, Dictionary<string, CheckResult> Checks);

    private sealed class DatabaseHealthCheck(DbDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy("Database accepts queries.");
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException or OperationCanceledException)
            {
                // The exception stays out of the response: it may name hosts or users.
                return HealthCheckResult.Unhealthy("Database does not accept queries.", ex);
            }
        }
    }
}
