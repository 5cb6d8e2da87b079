using Microsoft.Extensions.Options;

namespace Rdev.Api.Keys;

/// <summary>
/// Ensures <c>Rdev:BootstrapAdminKey</c> is an admin key, after migrations and before the API serves. An upsert by
/// id makes this safe for restarts and for replicas starting together: the same key changes nothing, a new secret
/// for the same id rotates it (and re-enables it if it was revoked), and a bootstrap key revoked through the API
/// stays revoked across restarts until its secret is changed. The key itself is never logged.
/// </summary>
public sealed partial class BootstrapAdminKey(
    IOptions<RdevOptions> options,
    ApiKeyStore store,
    ApiKeyCache cache,
    TimeProvider time,
    ILogger<BootstrapAdminKey> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var key = options.Value.BootstrapAdminKey;
        if (string.IsNullOrWhiteSpace(key))
        {
            LogNotConfigured(logger);
            return;
        }

        if (!ApiKeyFormat.TryParse(key.Trim(), out var idRange, out var secretRange))
        {
            throw new InvalidOperationException("Rdev:BootstrapAdminKey is malformed; ValidateBootstrapAdminKey should have failed the start.");
        }

        var id = key.Trim()[idRange];
        var outcome = await store.EnsureBootstrapAsync(id, ApiKeyFormat.HashSecret(key.Trim().AsSpan()[secretRange]), time.GetUtcNow(), cancellationToken);
        // The id exists now whatever its outcome. The replica may have listed the known ids before the row was there,
        // and its listener may not have been up for the row's NOTIFY: without this, the bootstrap key's first use would
        // be charged to its address's bucket for unknown ids, and refused when that bucket is empty.
        cache.Remember(id);
        cache.Evict(id);
        switch (outcome)
        {
            case BootstrapOutcome.Created:
                LogCreated(logger, id);
                break;
            case BootstrapOutcome.Rotated:
                LogRotated(logger, id);
                break;
            case BootstrapOutcome.UnchangedRevoked:
                LogStaysRevoked(logger, id);
                break;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "No Rdev:BootstrapAdminKey configured; keys must already exist")]
    private static partial void LogNotConfigured(ILogger logger);

    [LoggerMessage(LogLevel.Information, "Bootstrap admin key {KeyId} created")]
    private static partial void LogCreated(ILogger logger, string keyId);

    [LoggerMessage(LogLevel.Warning, "Bootstrap admin key {KeyId} had a different secret; rotated to the configured one")]
    private static partial void LogRotated(ILogger logger, string keyId);

    [LoggerMessage(LogLevel.Warning, "Bootstrap admin key {KeyId} is revoked and stays revoked; configure a new secret to re-enable it")]
    private static partial void LogStaysRevoked(ILogger logger, string keyId);
}

/// <summary>
/// Fails start-up when <c>Rdev:BootstrapAdminKey</c> is set but malformed: an operator who meant to configure an
/// admin key should find out now, not when the first call is refused. The message never echoes the value.
/// </summary>
public sealed class ValidateBootstrapAdminKey : IValidateOptions<RdevOptions>
{
    public ValidateOptionsResult Validate(string? name, RdevOptions options) =>
        string.IsNullOrWhiteSpace(options.BootstrapAdminKey) || ApiKeyFormat.TryParse(options.BootstrapAdminKey.Trim(), out _, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Rdev:BootstrapAdminKey must look like rdev_<id>_<secret>: id of {ApiKeyFormat.MinIdLength}-{ApiKeyFormat.MaxIdLength} " +
                $"characters a-z or 0-9, secret of {ApiKeyFormat.MinSecretLength}-{ApiKeyFormat.MaxSecretLength} characters A-Z, a-z or 0-9.");
}
