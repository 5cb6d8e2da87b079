using System.Net;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Rdev.Api.Audit;

/// <summary>
/// Who did what, in the <c>audit_log</c> table. <c>key_id</c> is the key that acted; <c>details</c> never holds a
/// secret (callers pass ids, names and counts only).
/// </summary>
public sealed class AuditLog(NpgsqlDataSource dataSource, TimeProvider time)
{
    public const string KeyCreated = "key.created";
    public const string KeyRevoked = "key.revoked";
    public const string AuthenticationFailed = "auth.failed";

    private static readonly JsonSerializerOptions JsonOptions = RdevJson.Options;

    public async Task WriteAsync(string action, string? keyId, string? project, IPAddress? ip, object details, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await WriteAsync(connection, action, keyId, project, ip, details, ct);
    }

    /// <summary>Writes on the caller's connection, so the entry commits (or not) with the change it describes.</summary>
    public async Task WriteAsync(
        NpgsqlConnection connection, string action, string? keyId, string? project, IPAddress? ip, object details, CancellationToken ct = default)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO audit_log (at, action, key_id, project, source_ip, details) VALUES ($1, $2, $3, $4, $5, $6)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        command.Parameters.Add(new NpgsqlParameter { Value = action });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)keyId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)project ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)Normalize(ip) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Inet });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = JsonSerializer.Serialize(details, details.GetType(), JsonOptions),
            NpgsqlDbType = NpgsqlDbType.Jsonb,
        });
        await command.ExecuteNonQueryAsync(ct);
    }

    internal static IPAddress? Normalize(IPAddress? ip) => ip is { IsIPv4MappedToIPv6: true } ? ip.MapToIPv4() : ip;
}
