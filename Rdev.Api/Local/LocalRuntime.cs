using Rdev.Api.Execution;

namespace Rdev.Api.Local;

public static class LocalRuntime
{
    /// <summary>The local runtime: commands as child processes in the project folders, items as files in them.</summary>
    public static IHostApplicationBuilder AddLocalRuntime(this IHostApplicationBuilder builder)
    {
        // A command runs as the same OS user as the API when the API is not root. That user may read
        // /proc/<pid>/environ and /proc/<pid>/mem of its own processes unless they are non-dumpable, and the API's
        // environment and memory hold the database password and the bootstrap admin key. Non-dumpable processes are
        // readable only with CAP_SYS_PTRACE; children get a dumpable state again at exec, so commands are unaffected.
        if (OperatingSystem.IsLinux())
        {
            NativeUsers.MakeProcessNonDumpable();
        }

        builder.Services.AddOptions<LocalRuntimeOptions>()
            .BindConfiguration(LocalRuntimeOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.RunAsUser is null || o.RunAsUser.All(char.IsAsciiDigit) || !NativeUsers.IsRoot
                || NativeUsers.ByName(o.RunAsUser) is not null, "Rdev:Local:RunAsUser names no user of this system.")
            .ValidateOnStart();
        builder.Services.AddSingleton<LocalUserPolicy>();
        builder.Services.AddSingleton<ICommandRunner, LocalCommandRunner>();
        builder.Services.AddSingleton<IWorkspaceFiles, LocalWorkspaceFiles>();
        builder.Services.AddSingleton<IRuntimeStatus, LocalRuntimeStatus>();
        return builder;
    }
}
