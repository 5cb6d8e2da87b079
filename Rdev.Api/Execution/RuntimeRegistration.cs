using Rdev.Api.Execution;
using Rdev.Api.Local;

// The root namespace, as Extensions.cs: registration reads without a using.
namespace Rdev.Api;

public static class RuntimeRegistration
{
    /// <summary>
    /// The adapters of the runtime <c>Rdev:Runtime</c> names (validated by <see cref="RdevOptions"/>) behind the ports
    /// of Execution/: <see cref="ICommandRunner"/>, <see cref="IWorkspaceFiles"/> and <see cref="IRuntimeStatus"/>,
    /// which <c>/ready</c> reports.
    /// </summary>
    public static IHostApplicationBuilder AddRuntime(this IHostApplicationBuilder builder)
    {
        if (builder.Configuration[$"{RdevOptions.SectionName}:Runtime"] == ProjectRuntime.Kubernetes)
        {
            builder.Services.AddKubernetesRuntime();
        }
        else
        {
            builder.AddLocalRuntime();
        }

        builder.Services.AddHealthChecks()
            .AddCheck<RuntimeHealthCheck>("runtime", tags: [Microsoft.Extensions.Hosting.Extensions.ReadyTag]);
        return builder;
    }
}
