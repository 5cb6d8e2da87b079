using Microsoft.Extensions.DependencyInjection.Extensions;
using Rdev.Api.Audit;
using Rdev.Api.ClaudeConfig;
using Rdev.Api.Kubernetes;

// The root namespace, as Extensions.cs: registration reads without a using.
namespace Rdev.Api;

public static class ClaudeConfigRegistration
{
    /// <summary>The Claude Code configuration API's services, on the runtime <c>Rdev:Runtime</c> names.</summary>
    public static IHostApplicationBuilder AddClaudeConfig(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<AuditLog>();
        if (builder.Configuration["Rdev:Runtime"] == ProjectRuntime.Kubernetes)
        {
            // Idempotent (TryAdd): the commands feature registers the same runtime.
            builder.Services.AddKubernetesRuntime();
            builder.Services.AddSingleton<IWorkspaceFiles, KubernetesWorkspaceFiles>();
        }
        else
        {
            builder.Services.AddSingleton<IWorkspaceFiles, LocalWorkspaceFiles>();
        }

        return builder;
    }
}
