using System.Net;
using Npgsql;
using NpgsqlTypes;

namespace Rdev.Api.Keys;

/// <summary>The <c>api_keys</c> table. Revocations and bootstrap rotations NOTIFY <see cref="ApiKeyCache.Channel"/>.</summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource)
{
    private const string Columns =
        "id, name, secret_hash, scopes, projects, allowed_ips::text[], expires_at, created_at, last_used_at, revoked_at";

    public async Task<ApiKey?> FindAsync(string id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM api_keys WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Every key id (ids only, never secrets): the replica's picture of which ids exist.</summary>
    public async Task<List<string>> ListIdsAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT id FROM api_keys");
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>Newest first; <paramref name="after"/> is the last key of the previous page.</summary>
    public async Task<List<ApiKey>> ListAsync(KeyCursor? after, int limit, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(after is null
            ? $"SELECT {Columns} FROM api_keys ORDER BY created_at DESC, id DESC LIMIT $1"
            : $"SELECT {Columns} FROM api_keys WHERE (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $1");
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        if (after is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = after.CreatedAt, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { Value = after.Id });
        }

        var keys = new List<ApiKey>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            keys.Add(Read(reader));
        }

        return keys;
    }

    /// <summary>
    /// Inserts the key and its audit entry in one transaction, and tells every replica (on commit) that the id now
    /// exists, so one that cached it as unknown forgets that at once.
    /// </summary>
    public async Task CreateAsync(ApiKey key, Func<NpgsqlConnection, Task> audit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var command = new NpgsqlCommand(
            $"""
            INSERT INTO api_keys (id, name, secret_hash, scopes, projects, allowed_ips, expires_at, created_at)
            VALUES ($1, $2, $3, $4, $5, $6::cidr[], $7, $8)
            RETURNING pg_notify('{ApiKeyCache.Channel}', id)
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = key.Id });
            command.Parameters.Add(new NpgsqlParameter { Value = key.Name });
            command.Parameters.Add(new NpgsqlParameter { Value = key.SecretHash });
            command.Parameters.Add(new NpgsqlParameter { Value = key.Scopes });
            command.Parameters.Add(new NpgsqlParameter { Value = key.Projects });
            command.Parameters.Add(new NpgsqlParameter { Value = key.AllowedIps.Select(n => n.ToString()).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)key.ExpiresAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { Value = key.CreatedAt });
            await command.ExecuteNonQueryAsync(ct);
        }

        await audit(connection);
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// Sets <c>revoked_at</c> (kept from the first revocation) and tells every replica; the NOTIFY is delivered on
    /// commit. Returns the stored key, or null when there is none with this id.
    /// </summary>
    public async Task<ApiKey?> RevokeAsync(string id, DateTimeOffset at, Func<NpgsqlConnection, Task> audit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        ApiKey? key;
        await using (var command = new NpgsqlCommand(
            $"""
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1
            RETURNING {Columns}, pg_notify('{ApiKeyCache.Channel}', id)
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = id });
            command.Parameters.Add(new NpgsqlParameter { Value = at });
            await using var reader = await command.ExecuteReaderAsync(ct);
            key = await reader.ReadAsync(ct) ? Read(reader) : null;
        }

        if (key is null)
        {
            return null;
        }

        await audit(connection);
        await transaction.CommitAsync(ct);
        return key;
    }

    /// <summary>
    /// Makes the bootstrap key an admin key with this hash. Same hash: nothing changes (a revoked bootstrap key stays
    /// revoked). New hash: the secret is rotated, the key re-enabled, and every replica drops the old one.
    /// </summary>
    public async Task<BootstrapOutcome> EnsureBootstrapAsync(string id, byte[] hash, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var upsert = new NpgsqlCommand(
            $"""
            INSERT INTO api_keys (id, name, secret_hash, scopes, created_at)
            VALUES ($1, 'bootstrap admin', $2, ARRAY['{Scopes.Admin}'], $3)
            ON CONFLICT (id) DO UPDATE
                SET secret_hash = EXCLUDED.secret_hash, scopes = EXCLUDED.scopes, revoked_at = NULL, expires_at = NULL
                WHERE api_keys.secret_hash <> EXCLUDED.secret_hash
            RETURNING xmax = 0
            """, connection);
        upsert.Parameters.Add(new NpgsqlParameter { Value = id });
        upsert.Parameters.Add(new NpgsqlParameter { Value = hash });
        upsert.Parameters.Add(new NpgsqlParameter { Value = now });
        var upserted = await upsert.ExecuteScalarAsync(ct);
        if (upserted is bool)
        {
            // Created or rotated: other replicas may hold the id as unknown, or the old secret.
            await using var notify = new NpgsqlCommand($"SELECT pg_notify('{ApiKeyCache.Channel}', $1)", connection);
            notify.Parameters.Add(new NpgsqlParameter { Value = id });
            await notify.ExecuteNonQueryAsync(ct);
            return upserted is true ? BootstrapOutcome.Created : BootstrapOutcome.Rotated;
        }

        await using var revoked = new NpgsqlCommand("SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = $1", connection);
        revoked.Parameters.Add(new NpgsqlParameter { Value = id });
        return await revoked.ExecuteScalarAsync(ct) is true ? BootstrapOutcome.UnchangedRevoked : BootstrapOutcome.Unchanged;
    }

    /// <summary>Writes batched <c>last_used_at</c> values; never moves one backwards.</summary>
    public async Task RecordUsageAsync(IReadOnlyList<string> ids, IReadOnlyList<DateTimeOffset> times, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE api_keys SET last_used_at = greatest(api_keys.last_used_at, u.at)
            FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
            WHERE api_keys.id = u.id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = times.ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }

    private static ApiKey Read(NpgsqlDataReader reader) => new(
        Id: reader.GetString(0),
        Name: reader.GetString(1),
        SecretHash: reader.GetFieldValue<byte[]>(2),
        Scopes: reader.GetFieldValue<string[]>(3),
        Projects: reader.GetFieldValue<string[]>(4),
        AllowedIps: reader.GetFieldValue<string[]>(5).Select(IPNetwork.Parse).ToArray(),
        ExpiresAt: reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
        CreatedAt: reader.GetFieldValue<DateTimeOffset>(7),
        LastUsedAt: reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
        RevokedAt: reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9));
}

public enum BootstrapOutcome { Created, Rotated, Unchanged, UnchangedRevoked }

/// <summary>Position in the key list (newest first), opaque to clients.</summary>
public sealed record KeyCursor(DateTimeOffset CreatedAt, string Id)
{
    public string Encode()
    {
        var micros = (CreatedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        return Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"{micros}.{Id}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryDecode(string? value, out KeyCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(value) || value.Length > 64)
        {
            return string.IsNullOrEmpty(value);
        }

        try
        {
            var base64 = value.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            var text = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(base64));
            var dot = text.IndexOf('.');
            if (dot <= 0 || !long.TryParse(text.AsSpan(0, dot), System.Globalization.NumberStyles.None, null, out var micros)
                || !ApiKeyFormat.IsId(text.AsSpan(dot + 1)) || micros > DateTimeOffset.MaxValue.UtcTicks / 10 - DateTimeOffset.UnixEpoch.UtcTicks / 10)
            {
                return false;
            }

            cursor = new KeyCursor(DateTimeOffset.UnixEpoch.AddTicks(micros * 10), text[(dot + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
