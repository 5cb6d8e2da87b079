using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rdev.Core;

/// <summary>
/// The one JSON shape of rdev (SPEC section 4): web defaults with snake_case property names and dictionary keys. The
/// API's bodies, the audit log, <c>/ready</c> and discovery's writes to <c>projects</c> all use it. Both instances are
/// read-only, so nobody can change the shape for everyone else.
/// </summary>
public static class RdevJson
{
    public static readonly JsonSerializerOptions Options = Create(JsonIgnoreCondition.Never);

    /// <summary><see cref="Options"/> without null properties: a command's stored <c>args</c> and its event data.</summary>
    public static readonly JsonSerializerOptions OmitNulls = Create(JsonIgnoreCondition.WhenWritingNull);

    /// <summary>Gives <paramref name="options"/> (ASP.NET Core's own, which cannot be replaced) the rdev naming.</summary>
    public static void ApplyNaming(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
    }

    private static JsonSerializerOptions Create(JsonIgnoreCondition ignore)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = ignore };
        ApplyNaming(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
