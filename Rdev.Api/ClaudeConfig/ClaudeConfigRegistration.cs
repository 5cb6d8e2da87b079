using Microsoft.Extensions.DependencyInjection.Extensions;
using Rdev.Api.Audit;

// The root namespace, as Extensions.cs: registration reads without a using.
namespace Rdev.Api;

public static class ClaudeConfigRegistration
{
    /// <summary>The Claude Code configuration API's services; its files are the runtime's <see cref="Execution.IWorkspaceFiles"/>.</summary>
    public static IHostApplicationBuilder AddClaudeConfig(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<AuditLog>();
        return builder;
    }
}
