using Rdev.Api.Data;
using Rdev.Api.Sessions;
using Rdev.Api.Streaming;

namespace Rdev.Api.Commands;

public static class CommandsRegistration
{
    /// <summary>Commands and their streams; the runtime they run on is <see cref="RuntimeRegistration.AddRuntime"/>'s.</summary>
    public static IHostApplicationBuilder AddCommands(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CommandOptions>()
            .BindConfiguration(CommandOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.DefaultTimeoutSeconds <= o.MaxTimeoutSeconds, "DefaultTimeoutSeconds must not exceed MaxTimeoutSeconds.")
            .ValidateOnStart();
        builder.Services.AddOptions<StreamingOptions>()
            .BindConfiguration(StreamingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton(new NotificationChannel(CommandStore.EventsChannel));
        builder.Services.AddSingleton(new NotificationChannel(CommandStore.CancelChannel));
        builder.Services.AddSingleton<CommandStore>();
        builder.Services.AddSingleton<CommandMetrics>();
        builder.Services.AddSingleton<StreamMetrics>();
        builder.Services.AddSingleton<StoredEventPages>();
        builder.Services.AddSingleton<CommandStreamHub>();
        builder.Services.AddOptions<ClaudeOptions>()
            .BindConfiguration(ClaudeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(new NotificationChannel(SessionStore.Channel));
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<ClaudeSessions>();
        builder.Services.AddSingleton<CommandSupervisor>();
        // Registered after the notification listener, so it stops (and stops its commands) first.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CommandSupervisor>());
        return builder;
    }
}
