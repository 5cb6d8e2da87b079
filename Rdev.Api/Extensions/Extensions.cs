using System.Text.Json;
using Rdev.Api.Data;


namespace Rdev.Api;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RdevOptions>()
            .BindConfiguration(RdevOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Aspire's own check would be mapped on /health; ours is tagged for /ready only.
        builder.AddNpgsqlDataSource("rdevdb", settings => settings.DisableHealthChecks = true);
        builder.Services.AddHealthChecks()
            .AddDatabaseCheck();
        builder.Services.AddHostedService<DatabaseMigrator>();
        builder.Services.AddSingleton<PostgresNotifications>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgresNotifications>());

        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
        });

        builder.Services.AddRdevProblemDetails();
        builder.Services.AddApiDocs();
    }
}
