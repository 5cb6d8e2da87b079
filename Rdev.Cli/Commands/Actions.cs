using System.CommandLine;

namespace Rdev.Cli.Commands;

/// <summary>
/// How every command ends: expected failures (a problem from the API, an unreachable API, no login) become one line
/// on stderr, "rdev: ...", and an exit code from <see cref="ExitCodes"/>; never a stack trace.
/// </summary>
public static class Actions
{
    public static Func<ParseResult, CancellationToken, Task<int>> Guarded(Func<ParseResult, CancellationToken, Task<int>> body) =>
        async (parse, cancellationToken) =>
        {
            try
            {
                return await body(parse, cancellationToken);
            }
            catch (CliException e)
            {
                Fail(e.Message);
                return e.ExitCode;
            }
            catch (Exception e) when (Failures.Describe(e) is { } failure)
            {
                Fail(failure.Message);
                return failure.ExitCode;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A bug of rdev's: still one line (RDEV_DEBUG=1 shows where).
                Fail($"unexpected error: {e.GetType().Name}: {e.Message}".ReplaceLineEndings(" "));
                if (Environment.GetEnvironmentVariable("RDEV_DEBUG") is { Length: > 0 })
                {
                    Console.Error.WriteLine(e);
                }

                return ExitCodes.Internal;
            }
        };

    public static void Fail(string message) => Console.Error.WriteLine($"rdev: {message}");

    public static void Warn(string message) => Console.Error.WriteLine($"rdev: warning: {message}");
}
