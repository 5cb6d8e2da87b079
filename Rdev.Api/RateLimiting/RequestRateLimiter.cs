using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Rdev.Api.Keys;

namespace Rdev.Api.RateLimiting;

/// <summary>
/// The global limiter: one token bucket per API key, and one per client address for requests without a valid key
/// (IPv6 clients by /64, since one host can hold a whole /64). Partitions come only from verified key ids and real
/// connection addresses, so forged keys or headers cannot create new ones; idle full buckets are dropped. A key id
/// this replica does not know is looked up only with a token from the address's bucket (see
/// <see cref="TryAdmitKeyLookup"/>), so guessed keys cost no database work once that bucket is empty. Probes are
/// never limited. Every limited answer carries <c>RateLimit-Limit</c>, <c>RateLimit-Remaining</c> and
/// <c>RateLimit-Reset</c> (seconds until the bucket is full again).
/// </summary>
public sealed class RequestRateLimiter : PartitionedRateLimiter<HttpContext>
{
    private static readonly RateLimiter Unlimited = RateLimitPartition.GetNoLimiter(0).Factory(0);

    private readonly PartitionedRateLimiter<Partition> buckets;
    private readonly BucketSettings perKey;
    private readonly BucketSettings perAddress;

    public RequestRateLimiter(IOptions<RateLimitOptions> options, TimeProvider time)
    {
        var limits = options.Value;
        perKey = new BucketSettings(limits.Burst, limits.PermitsPerMinute, time);
        perAddress = new BucketSettings(limits.UnauthenticatedBurst, limits.UnauthenticatedPermitsPerMinute, time);
        buckets = PartitionedRateLimiter.Create<Partition, Partition>(partition => RateLimitPartition.Get(partition, CreateBucket));
    }

    /// <summary>Which bucket a request draws from: <c>key</c>, <c>ip</c>, or null when it is not limited.</summary>
    public static string? LimiterFor(HttpContext context) =>
        IsProbe(context.Request.Path) ? null : VerifiedKey(context) is not null ? "key" : "ip";

    /// <summary>
    /// Called by authentication before it looks up a key id this replica does not know: the lookup costs the client
    /// address one token, so guessed keys are limited per address before any database work. The lease is kept on the
    /// request, and the limiter middleware later uses it instead of drawing again, so each request costs one token;
    /// a refused one makes that middleware answer 429.
    /// </summary>
    public bool TryAdmitKeyLookup(HttpContext context)
    {
        var lease = buckets.AttemptAcquire(AddressPartition(context));
        context.Features.Set(new AddressLease(lease));
        return lease.IsAcquired;
    }

    private RateLimitLease Acquire(HttpContext context)
    {
        if (IsProbe(context.Request.Path))
        {
            return Unlimited.AttemptAcquire();
        }

        if (VerifiedKey(context) is { } key)
        {
            return buckets.AttemptAcquire(new Partition(key.Id, null, perKey));
        }

        return context.Features.Get<AddressLease>()?.Lease ?? buckets.AttemptAcquire(AddressPartition(context));
    }

    private Partition AddressPartition(HttpContext context) =>
        new(null, AddressBlock(context.Connection.RemoteIpAddress), perAddress);

    /// <summary>
    /// A key used from an address outside its allowlist draws from that address's bucket, so it cannot drain the
    /// bucket of the key's rightful user.
    /// </summary>
    private static ApiKey? VerifiedKey(HttpContext context) =>
        context.Features.Get<ApiKey>() is { } key && context.User.Identity?.IsAuthenticated == true
            && key.AllowsAddress(context.Connection.RemoteIpAddress) ? key : null;

    private static readonly Func<Partition, RateLimiter> CreateBucket = partition => new TokenBucket(partition.Settings!);

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments(Microsoft.Extensions.Hosting.Extensions.HealthEndpointPath)
        || path.StartsWithSegments(Microsoft.Extensions.Hosting.Extensions.AlivenessEndpointPath)
        || path.StartsWithSegments(Microsoft.Extensions.Hosting.Extensions.ReadinessEndpointPath)
        || path.StartsWithSegments("/metrics");

    private static IPAddress AddressBlock(IPAddress? address)
    {
        if (address is null)
        {
            return IPAddress.None;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    /// <remarks>The middleware asks for one permit per request; buckets never queue, so async is the same call.</remarks>
    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) =>
        WithHeaders(resource, Acquire(resource));

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(WithHeaders(resource, Acquire(resource)));

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    private static RateLimitLease WithHeaders(HttpContext context, RateLimitLease lease)
    {
        if (lease is BucketLease bucket)
        {
            var headers = context.Response.Headers;
            headers["RateLimit-Limit"] = Number(bucket.Limit);
            headers["RateLimit-Remaining"] = Number(bucket.Remaining);
            headers["RateLimit-Reset"] = Number(bucket.ResetSeconds);
        }

        return lease;
    }

    private static readonly string[] SmallNumbers =
        Enumerable.Range(0, 1024).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Header values without an allocation for the common, small ones.</summary>
    private static string Number(int value) =>
        (uint)value < SmallNumbers.Length ? SmallNumbers[value] : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            buckets.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await buckets.DisposeAsync();
        await base.DisposeAsyncCore();
    }

    private readonly record struct Partition(string? KeyId, IPAddress? Address, BucketSettings? Settings);

    /// <summary>The address token taken (or refused) before a key lookup.</summary>
    private sealed record AddressLease(RateLimitLease Lease);
}
