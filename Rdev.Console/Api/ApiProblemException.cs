using System.Net;

namespace Rdev.Console.Api;

/// <summary>
/// An answer of the API that is not a success (Rdev.Client's <c>RdevProblemException</c>), as a page shows it: one
/// line with the problem's code and status.
/// </summary>
public sealed class ApiProblemException(HttpStatusCode status, string? code, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    public string? Code { get; } = code;

    public bool IsForbidden => Status == HttpStatusCode.Forbidden;
}
