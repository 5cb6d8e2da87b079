using Rdev.Client;

namespace Rdev.Cli;

/// <summary>An expected failure said in one line, with the exit code it ends the run with.</summary>
public sealed record Failure(string Message, int ExitCode);

/// <summary>Turns what can go wrong talking to the API into one readable line (docs/cli.md, "Exit codes").</summary>
public static class Failures
{
    /// <summary>The URL in use, for "cannot reach" messages.</summary>
    public static Uri? ApiUrl { get; set; }

    private static string Url => ApiUrl?.ToString().TrimEnd('/') ?? "(no URL)";

    public static Failure? Describe(Exception exception) => exception switch
    {
        // E.g. "403 FORBIDDEN: This API key lacks the 'commands:shell' scope. (trace 4bf9...)".
        RdevProblemException problem => new Failure(problem.Message, ExitCodes.Problem),
        HttpRequestException or IOException =>
            new Failure($"cannot reach the API at {Url}: {exception.Message}", ExitCodes.Unreachable),
        TaskCanceledException { InnerException: TimeoutException } =>
            new Failure($"the API at {Url} did not answer in time", ExitCodes.Unreachable),
        _ => null,
    };
}
