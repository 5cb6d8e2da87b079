using System.CommandLine;
using Rdev.Cli;

// System.CommandLine's own Ctrl+C handling is off: a streaming command asks before it cancels (Streaming/Interrupts.cs).
var parsed = RdevCommand.Create().Parse(args);
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
if (parsed.Errors.Count > 0)
{
    await parsed.InvokeAsync(invocation);
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync(invocation);
