using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Abstractions.Store;

namespace Rdev.Client;

/// <summary>
/// Kiota's request adapter, with every non-success answer read as one <see cref="RdevProblemException"/> (the "XXX"
/// error mapping) instead of the per-operation error types the generator would pick, so callers catch one type.
/// </summary>
internal sealed class ProblemRequestAdapter(IRequestAdapter inner) : IRequestAdapter
{
    private static readonly Dictionary<string, ParsableFactory<IParsable>> Problems = new()
    {
        ["XXX"] = RdevProblemException.CreateFromDiscriminatorValue,
    };

    public ISerializationWriterFactory SerializationWriterFactory => inner.SerializationWriterFactory;

    public string? BaseUrl
    {
        get => inner.BaseUrl;
        set => inner.BaseUrl = value;
    }

    public void EnableBackingStore(IBackingStoreFactory backingStoreFactory) => inner.EnableBackingStore(backingStoreFactory);

    public Task<ModelType?> SendAsync<ModelType>(RequestInformation requestInfo, ParsableFactory<ModelType> factory,
        Dictionary<string, ParsableFactory<IParsable>>? errorMapping = null, CancellationToken cancellationToken = default)
        where ModelType : IParsable =>
        Problem(() => inner.SendAsync(requestInfo, factory, Problems, cancellationToken));

    public Task<IEnumerable<ModelType>?> SendCollectionAsync<ModelType>(RequestInformation requestInfo, ParsableFactory<ModelType> factory,
        Dictionary<string, ParsableFactory<IParsable>>? errorMapping = null, CancellationToken cancellationToken = default)
        where ModelType : IParsable =>
        Problem(() => inner.SendCollectionAsync(requestInfo, factory, Problems, cancellationToken));

    public Task<ModelType?> SendPrimitiveAsync<ModelType>(RequestInformation requestInfo,
        Dictionary<string, ParsableFactory<IParsable>>? errorMapping = null, CancellationToken cancellationToken = default) =>
        Problem(() => inner.SendPrimitiveAsync<ModelType>(requestInfo, Problems, cancellationToken));

    public Task<IEnumerable<ModelType>?> SendPrimitiveCollectionAsync<ModelType>(RequestInformation requestInfo,
        Dictionary<string, ParsableFactory<IParsable>>? errorMapping = null, CancellationToken cancellationToken = default) =>
        Problem(() => inner.SendPrimitiveCollectionAsync<ModelType>(requestInfo, Problems, cancellationToken));

    public Task SendNoContentAsync(RequestInformation requestInfo,
        Dictionary<string, ParsableFactory<IParsable>>? errorMapping = null, CancellationToken cancellationToken = default) =>
        Problem(async () =>
        {
            await inner.SendNoContentAsync(requestInfo, Problems, cancellationToken);
            return true;
        });

    public Task<T?> ConvertToNativeRequestAsync<T>(RequestInformation requestInfo, CancellationToken cancellationToken = default) =>
        inner.ConvertToNativeRequestAsync<T>(requestInfo, cancellationToken);

    private static async Task<T> Problem<T>(Func<Task<T>> send)
    {
        try
        {
            return await send();
        }
        catch (RdevProblemException problem)
        {
            problem.WithHeaders();
            throw;
        }
        catch (ApiException other)
        {
            // No problem body to read (an empty answer, say from a proxy): the status is all there is.
            throw RdevProblemException.From(other).WithHeaders();
        }
    }
}
