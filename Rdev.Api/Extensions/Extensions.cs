using Rdev.Api.Commands;
using Rdev.Api.Data;
using Rdev.Api.Keys;
using Rdev.Api.RateLimiting;
using Rdev.Api.Projects;


namespace Rdev.Api;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RdevOptions>()
            .BindConfiguration(RdevOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var database = builder.Configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new();
        // Aspire's own check would be mapped on /health; ours is tagged for /ready only. The pool is bounded so that a
        // reconnect storm waits for connections instead of exhausting PostgreSQL's max_connections.
        builder.AddNpgsqlDataSource("rdevdb", settings => settings.DisableHealthChecks = true,
            dataSource => dataSource.ConnectionStringBuilder.MaxPoolSize = database.MaxPoolSize);
        builder.Services.AddHealthChecks()
            .AddDatabaseCheck();
        builder.Services.AddHostedService<DatabaseMigrator>();
        builder.Services.AddSingleton<PostgresNotifications>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgresNotifications>());

        builder.Services.ConfigureHttpJsonOptions(options => RdevJson.ApplyNaming(options.SerializerOptions));

        builder.Services.AddSingleton(new NotificationChannel(ProjectRegistry.Channel));
        builder.Services.AddSingleton<ProjectRegistry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectRegistry>());
        builder.Services.AddHealthChecks().AddCheck<ProjectRegistry>("projects", tags: [Microsoft.Extensions.Hosting.Extensions.ReadyTag]);

        builder.Services.AddRdevProblemDetails();
        builder.Services.AddExpectedExceptions();
        builder.Services.AddApiDocs();

        builder.Services.AddRequestLimits();
        builder.Services.AddClientAddresses();
        builder.Services.AddApiKeys();
        builder.Services.AddRequestRateLimiting();
        builder.Services.AddRequestValidation();
        builder.Services.AddOpenApiSecurity();

        builder.AddRuntime();
        builder.AddCommands();
        builder.AddClaudeConfig();
    }
}
