namespace Rdev.Core;

/// <summary>
/// The stable <c>code</c> of every rdev problem answer (SPEC section 4). Clients switch on these, so they never
/// change spelling; the title and detail may.
/// </summary>
public static class ProblemCodes
{
    public const string ValidationFailed = "VALIDATION_FAILED";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Forbidden = "FORBIDDEN";
    public const string NotFound = "NOT_FOUND";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string NotAcceptable = "NOT_ACCEPTABLE";
    public const string Conflict = "CONFLICT";
    public const string PreconditionFailed = "PRECONDITION_FAILED";
    public const string PreconditionRequired = "PRECONDITION_REQUIRED";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string RateLimited = "RATE_LIMITED";
    public const string CommandLimitReached = "COMMAND_LIMIT_REACHED";
    public const string CommandNotAllowed = "COMMAND_NOT_ALLOWED";
    public const string ProjectUnavailable = "PROJECT_UNAVAILABLE";
    public const string KubernetesUnavailable = "KUBERNETES_UNAVAILABLE";
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";
    public const string NotReady = "NOT_READY";
    public const string InternalError = "INTERNAL_ERROR";
    public const string BadRequest = "BAD_REQUEST";

    /// <summary>The title of every 400: the one ASP.NET Core gives a validation problem.</summary>
    public const string ValidationTitle = "One or more validation errors occurred.";
}
