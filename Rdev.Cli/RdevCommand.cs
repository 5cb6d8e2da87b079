using System.CommandLine;
using Rdev.Cli.Commands;

namespace Rdev.Cli;

/// <summary>The command tree: one file per command (or group) in Commands/.</summary>
public static class RdevCommand
{
    public static RootCommand Create() => new("rdev: run git, shell and Claude Code commands in rdev projects and follow them live")
    {
        LoginCommand.Create(),
        ProjectsCommand.Create(),
        RunCommands.Git(),
        RunCommands.Shell(),
        RunCommands.Claude(),
        LogsCommand.Create(),
        CancelCommand.Create(),
        ApprovalCommands.List(),
        ApprovalCommands.Approve(),
        KeysCommand.Create(),
    };
}
