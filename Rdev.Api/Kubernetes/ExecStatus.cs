using System.Globalization;
using System.Text.Json;

namespace Rdev.Api.Kubernetes;

/// <summary>The v1 Status an exec ends with on channel 3.</summary>
internal static class ExecStatus
{
    /// <summary>
    /// 0 for Success; the ExitCode cause for reason NonZeroExitCode; otherwise null, with the Status reason
    /// (never its message: that repeats the command line) for the log.
    /// </summary>
    public static int? ExitCode(ReadOnlySpan<byte> json, out string? reason)
    {
        reason = null;
        if (json.IsEmpty)
        {
            return null;
        }
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            reason = root.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            if (root.TryGetProperty("status", out var status) && status.ValueEquals("Success"))
            {
                return 0;
            }
            if (reason != "NonZeroExitCode"
                || !root.TryGetProperty("details", out var details) || details.ValueKind != JsonValueKind.Object
                || !details.TryGetProperty("causes", out var causes) || causes.ValueKind != JsonValueKind.Array)
            {
                return null;
            }
            foreach (var cause in causes.EnumerateArray())
            {
                if (cause.ValueKind == JsonValueKind.Object
                    && cause.TryGetProperty("reason", out var causeReason) && causeReason.ValueEquals("ExitCode")
                    && cause.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                    && int.TryParse(message.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var code))
                {
                    return code;
                }
            }
            return null;
        }
        catch (JsonException)
        {
            reason = "UnparsableStatus";
            return null;
        }
    }
}
