using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Serialization.Json;

namespace Rdev.Client;

/// <summary>
/// Every answer of the rdev API that is not a success, as its RFC 9457 problem: the HTTP status, rdev's stable
/// <see cref="Code"/> (<c>FORBIDDEN</c>, <c>NOT_FOUND</c>, <c>VALIDATION_FAILED</c>, ...), and for a validation failure
/// the messages by field. Thrown by the generated request builders of <see cref="RdevClient.Api"/> and by the stream
/// readers alike. Its <see cref="Message"/> (and <see cref="ToString"/>) is one readable line with the code.
/// </summary>
public sealed class RdevProblemException : ApiException, IParsable
{
    private int? status;

    public RdevProblemException()
    {
    }

    public RdevProblemException(int status, string? code, string? title, string? detail)
    {
        this.status = status;
        ResponseStatusCode = status;
        Code = code;
        Title = title;
        Detail = detail;
    }

    /// <summary>The HTTP status (from the problem, else from the response).</summary>
    public int Status => status ?? ResponseStatusCode;

    /// <summary>rdev's stable, upper snake case code; null only when the answer was not a problem document.</summary>
    public string? Code { get; private set; }

    public string? Title { get; private set; }

    public string? Detail { get; private set; }

    public string? Type { get; private set; }

    public string? Instance { get; private set; }

    /// <summary>The request's trace id, to find it in the API's logs and traces.</summary>
    public string? TraceId { get; private set; }

    /// <summary>For <c>VALIDATION_FAILED</c>: messages by snake_case field path; empty otherwise.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; private set; } = new Dictionary<string, string[]>();

    /// <summary>For 429 and 503: how long the API asked to wait before trying again.</summary>
    public TimeSpan? RetryAfter { get; private set; }

    /// <summary>E.g. <c>403 FORBIDDEN: This API key lacks the 'commands:shell' scope. (trace 4bf9...)</c>.</summary>
    public override string Message
    {
        get
        {
            var errors = Errors.Count == 0 || (Errors.Count == 1 && Errors.First().Value is [var only] && only == Detail)
                ? ""
                : " " + string.Join("; ", Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
            var text = $"{Status} {Code ?? "HTTP_" + Status.ToString(CultureInfo.InvariantCulture)}: {Detail ?? Title ?? "the request failed."}{errors}" +
                (TraceId is null ? "" : $" (trace {TraceId})");
            return text.ReplaceLineEndings(" ");
        }
    }

    public override string ToString() => Message;

    public static RdevProblemException CreateFromDiscriminatorValue(IParseNode parseNode) => new();

    public IDictionary<string, Action<IParseNode>> GetFieldDeserializers() => new Dictionary<string, Action<IParseNode>>
    {
        ["status"] = n => status = n.GetIntValue(),
        ["code"] = n => Code = n.GetStringValue(),
        ["title"] = n => Title = n.GetStringValue(),
        ["detail"] = n => Detail = n.GetStringValue(),
        ["type"] = n => Type = n.GetStringValue(),
        ["instance"] = n => Instance = n.GetStringValue(),
        ["trace_id"] = n => TraceId = n.GetStringValue(),
        ["errors"] = n => Errors = ReadErrors(n.GetObjectValue(UntypedNode.CreateFromDiscriminatorValue)),
    };

    public void Serialize(ISerializationWriter writer) => throw new NotSupportedException("Problems are only read.");

    /// <summary>The problem of a failed response read outside Kiota (the stream readers).</summary>
    public static async Task<RdevProblemException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        RdevProblemException problem;
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is "application/problem+json" or "application/json")
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var node = await new JsonParseNodeFactory().GetRootParseNodeAsync("application/json", body, cancellationToken);
            problem = node.GetObjectValue(CreateFromDiscriminatorValue);
        }
        else
        {
            problem = new RdevProblemException { Title = response.ReasonPhrase };
        }

        problem.ResponseStatusCode = (int)response.StatusCode;
        problem.RetryAfter = RetryAfterOf(response.Headers.RetryAfter);
        return problem;
    }

    /// <summary>A problem from Kiota's own failure (one without a readable problem body).</summary>
    internal static RdevProblemException From(ApiException exception) => new()
    {
        ResponseStatusCode = exception.ResponseStatusCode,
        ResponseHeaders = exception.ResponseHeaders,
        Title = ((HttpStatusCode)exception.ResponseStatusCode).ToString(),
    };

    internal RdevProblemException WithHeaders()
    {
        if (ResponseHeaders.TryGetValue("Retry-After", out var values) && values.FirstOrDefault() is { } value
            && RetryConditionHeaderValue.TryParse(value, out var parsed))
        {
            RetryAfter = RetryAfterOf(parsed);
        }

        return this;
    }

    private static TimeSpan? RetryAfterOf(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    private static Dictionary<string, string[]> ReadErrors(UntypedNode? node) =>
        node is UntypedObject errors
            ? errors.GetValue().ToDictionary(
                e => e.Key,
                e => e.Value is UntypedArray messages ? messages.GetValue().OfType<UntypedString>().Select(m => m.GetValue() ?? "").ToArray() : [])
            : [];
}
