using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using k8s.Autorest;

namespace Rdev.Api.Kubernetes;

/// <summary>
/// What a failed exec request means. KubernetesClient 21 reports any non-101 answer to the upgrade as a plain
/// <see cref="WebSocketException"/> ("The server returned status code '404' when status code '101' was expected"),
/// so the status code is read from that message.
/// </summary>
/// <param name="ProjectProblem">The pod (not Kubernetes) is the problem: missing, not running, no such container.</param>
/// <param name="Outage">Counts against the circuit breaker: transport errors, timeouts, 429 and 5xx.</param>
/// <param name="Message">Safe to show: no URL, namespace or server text.</param>
internal sealed partial record ExecFailure(bool ProjectProblem, bool Outage, string Message, int? StatusCode)
{
    public static ExecFailure? Classify(Exception exception) => exception switch
    {
        HttpOperationException { Response: { } response } => FromStatus((int)response.StatusCode),
        WebSocketException webSocket when StatusCodeOf(webSocket) is { } code => FromStatus(code),
        TimeoutException or WebSocketException or HttpRequestException or SocketException or IOException =>
            new(ProjectProblem: false, Outage: true, "The Kubernetes API is unavailable.", null),
        _ => null,
    };

    private static ExecFailure FromStatus(int code) => code switch
    {
        404 => new(true, false, "The project's pod was not found.", code),
        400 or 409 => new(true, false, "The project's pod cannot run commands right now.", code),
        401 or 403 => new(false, false, "The Kubernetes API refused the exec request.", code),
        _ => new(false, true, "The Kubernetes API is unavailable.", code),
    };

    private static int? StatusCodeOf(WebSocketException exception) =>
        exception.WebSocketErrorCode == WebSocketError.NotAWebSocket && StatusCodePattern().Match(exception.Message) is { Success: true } match
            ? int.Parse(match.Groups[1].ValueSpan, provider: System.Globalization.CultureInfo.InvariantCulture)
            : null;

    [GeneratedRegex(@"'(\d{3})'")]
    private static partial Regex StatusCodePattern();
}

/// <summary>What counts against the circuit for execs: <see cref="ExecFailure.Outage"/>, which also reads the upgrade's status.</summary>
internal sealed class ExecOutages : IKubernetesOutageClassifier
{
    public bool IsOutage(Exception exception) => ExecFailure.Classify(exception)?.Outage == true;
}
