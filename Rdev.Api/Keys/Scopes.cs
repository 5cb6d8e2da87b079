namespace Rdev.Api.Keys;

/// <summary>
/// API key scopes (SPEC section 5). Each scope is also the name of the authorization policy that requires it;
/// <see cref="Admin"/> satisfies every policy.
/// </summary>
public static class Scopes
{
    public const string Admin = "admin";
    public const string ProjectsRead = "projects:read";
    public const string CommandsRun = "commands:run";
    public const string CommandsShell = "commands:shell";
    public const string CommandsRead = "commands:read";
    public const string CommandsApprove = "commands:approve";
    public const string ConfigRead = "config:read";
    public const string ConfigWrite = "config:write";

    public static readonly IReadOnlyList<string> All =
        [Admin, ProjectsRead, CommandsRun, CommandsShell, CommandsRead, CommandsApprove, ConfigRead, ConfigWrite];
}
