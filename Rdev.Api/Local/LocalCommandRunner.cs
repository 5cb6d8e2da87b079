using System.Diagnostics;
using Microsoft.Extensions.Options;
using Rdev.Api.Execution;

namespace Rdev.Api.Local;

/// <summary>
/// The local runtime: a command in the project folder, launched through the <see cref="RunFolder"/> scripts so that it
/// runs detached in a session of its own (it outlives the API process) with its run folder under
/// <see cref="LocalRuntimeOptions.RunsRoot"/>; attaching reads that folder directly. A root API first drops to the user
/// <see cref="LocalUserPolicy"/> picks, through <c>setpriv</c> (util-linux), and hands the run folder to that user.
/// This is not a sandbox: a command can do whatever that OS user can.
/// </summary>
public sealed partial class LocalCommandRunner(
    LocalUserPolicy users, IOptions<LocalRuntimeOptions> options, ILogger<LocalCommandRunner> logger) : ICommandRunner
{
    // rdev's own configuration and telemetry credentials must not leak into user commands.
    private static readonly string[] HiddenVariablePrefixes = ["ConnectionStrings", "Rdev", "OTEL_", "ASPNETCORE_", "DOTNET_"];

    // Per-user folders of the API's user, which another user cannot use (and should not be pointed at).
    private static readonly string[] UserFolderVariables = ["XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"];

    private static readonly TimeSpan LaunchTimeout = TimeSpan.FromSeconds(15);

    public string RunsRoot => options.Value.ResolvedRunsRoot;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task<IRunningProcess> StartAsync(RunTarget target, RunRequest request, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(target.Workspace))
        {
            throw new RuntimeUnavailableException($"The folder of project '{target.Project}' does not exist.", RuntimeBlame.Project);
        }

        var user = users.For(target.Workspace);
        var folder = CreateRunFolder(request.CommandId, user);
        var info = new ProcessStartInfo(user is null ? "sh" : "setpriv")
        {
            WorkingDirectory = target.Workspace,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (user is not null)
        {
            // --init-groups needs a passwd entry; a bare uid gets no supplementary groups.
            var groups = user.Name is null ? "--clear-groups" : "--init-groups";
            foreach (var arg in (string[])[$"--reuid={user.Uid}", $"--regid={user.Gid}", groups, "--", "sh"])
            {
                info.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in RunFolder.StartCommand(RunsRoot, request, target.Workspace).Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.ToList())
        {
            if (HiddenVariablePrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                info.Environment.Remove(name);
            }
        }

        if (user is not null)
        {
            SetUserEnvironment(info.Environment, user);
        }

        // Set by the operator for this kind of command (the Claude CLI's Rdev:Claude:Environment); values are not logged.
        foreach (var (name, value) in request.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var processGroup = await LaunchAsync(info, cancellationToken);
        LogStarted(logger, processGroup, target.Project);
        return new LocalRun(folder, processGroup, default, logger);
    }

    public async Task<IRunningProcess> AttachAsync(RunTarget target, Guid commandId, RunOffsets offsets, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(RunsRoot, RunFolder.Id(commandId));
        // A run folder gets its pgid within moments of its launch (written in place: wait until it reads as a number); a
        // launch that died leaves none.
        var found = LocalRun.ReadProcessGroup(folder);
        for (var attempt = 0; found is null && attempt < 100 && Directory.Exists(folder); attempt++)
        {
            await Task.Delay(100, cancellationToken);
            found = LocalRun.ReadProcessGroup(folder);
        }

        return found is { } processGroup
            ? new LocalRun(folder, processGroup, offsets, logger)
            : LocalRun.Lost(folder);
    }

    public Task RemoveRunAsync(RunTarget target, Guid commandId, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(RunsRoot, RunFolder.Id(commandId));
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Removed already.
        }

        return Task.CompletedTask;
    }

    /// <summary>The ids of the run folders under the runs root (the target does not matter locally).</summary>
    public Task<IReadOnlyList<Guid>> ListRunsAsync(RunTarget target, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<Guid>>(Directory.Exists(RunsRoot)
            ? [.. Directory.EnumerateDirectories(RunsRoot).Select(Path.GetFileName).Select(n => Guid.TryParse(n, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty)]
            : []);

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private string CreateRunFolder(Guid id, OsUser? user)
    {
        // Others may pass through the root (the command's user must reach its folder) but not list or read it.
        Directory.CreateDirectory(RunsRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        // The default lives in a shared temp folder: one that another user made (or a symlink) could expose every spool.
        var root = FileStatus.OfLink(RunsRoot);
        if (root.Type != FileType.Directory || root.Uid != NativeUsers.EffectiveUserId
            || (File.GetUnixFileMode(RunsRoot) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new RuntimeUnavailableException(
                "The runs root (Rdev:Local:RunsRoot) must be a folder of the API's user that no one else may write.", RuntimeBlame.Runtime);
        }

        var folder = Path.Combine(RunsRoot, RunFolder.Id(id));
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (user is not null)
        {
            NativeUsers.GiveTo(folder, user);
        }

        return folder;
    }

    /// <summary>Runs the start script, which returns once the command runs; its first stderr line names the process group.</summary>
    private static async Task<int> LaunchAsync(ProcessStartInfo info, CancellationToken cancellationToken)
    {
        Process launcher;
        try
        {
            launcher = Process.Start(info) ?? throw new RuntimeUnavailableException("The process did not start.", RuntimeBlame.Project);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RuntimeUnavailableException("The process could not be started.", RuntimeBlame.Project, ex);
        }

        using (launcher)
        {
            launcher.StandardInput.Close();
            var stderr = launcher.StandardError.ReadToEndAsync(cancellationToken);
            var stdout = launcher.StandardOutput.ReadToEndAsync(cancellationToken);
            try
            {
                await launcher.WaitForExitAsync(cancellationToken).WaitAsync(LaunchTimeout, cancellationToken);
                var marker = (await stderr).Split('\n')[0];
                await stdout;
                if (launcher.ExitCode == 0 && marker.StartsWith("rdev-pgid:", StringComparison.Ordinal)
                    && int.TryParse(marker["rdev-pgid:".Length..], out var processGroup) && processGroup > 1)
                {
                    return processGroup;
                }
            }
            catch (TimeoutException)
            {
                launcher.Kill();
            }

            throw new RuntimeUnavailableException("The command could not be started in the project's folder.", RuntimeBlame.Project);
        }
    }

    private static void SetUserEnvironment(IDictionary<string, string?> environment, OsUser user)
    {
        foreach (var name in UserFolderVariables)
        {
            environment.Remove(name);
        }

        // No HOME at all rather than the API's own (git fails on a HOME it may not read).
        SetOrRemove(environment, "HOME", Directory.Exists(user.Home) ? user.Home : null);
        SetOrRemove(environment, "USER", user.Name);
        SetOrRemove(environment, "LOGNAME", user.Name);
    }

    private static void SetOrRemove(IDictionary<string, string?> environment, string name, string? value)
    {
        if (value is null)
        {
            environment.Remove(name);
        }
        else
        {
            environment[name] = value;
        }
    }

    [LoggerMessage(LogLevel.Debug, "Started local process group {ProcessGroup} for project {Project}")]
    private static partial void LogStarted(ILogger logger, int processGroup, string project);
}
