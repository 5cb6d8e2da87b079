using BenchmarkDotNet.Attributes;
using Rdev.Api.Keys;

namespace Rdev.Benchmarks;

/// <summary>The key check alone: parse, SHA-256 of the secret, constant-time comparison.</summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class KeyVerificationBenchmarks
{
    private const string Key = BenchmarkHosts.AdminKey;
    private readonly byte[] hash = ApiKeyFormat.HashSecret(Key.Split('_')[2]);

    [Benchmark]
    public bool ParseAndVerify() =>
        ApiKeyFormat.TryParse(Key, out _, out var secret) && ApiKeyFormat.Verify(Key.AsSpan()[secret], hash);
}
