using System.Net.Http.Headers;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Rdev.Client.Generated;
using Rdev.Client.Generated.Api.V1;

namespace Rdev.Client;

/// <summary>
/// The entry point of the rdev API for .NET: <see cref="V1"/> is the generated, typed API
/// (<c>await client.V1.Projects.GetAsync()</c>, <c>client.V1.Projects["hello"].Git.PostAsync(...)</c>), and
/// <see cref="StreamCommandAsync"/> and <see cref="StreamEventsAsync"/> read the Server-Sent Event streams, resuming
/// after any disconnect. Every key-bearing request sends <c>Authorization: Bearer &lt;key&gt;</c>. Every answer that is
/// not a success throws <see cref="RdevProblemException"/>.
/// </summary>
public sealed class RdevClient
{
    private readonly HttpClient http;
    private readonly AuthenticationHeaderValue authorization;
    private readonly string baseUrl;

    /// <param name="httpClient">Its <see cref="HttpClient.BaseAddress"/> is the API's URL, e.g. <c>http://127.0.0.1:5080/</c>.
    /// It is not disposed by this client. Its <see cref="HttpClient.Timeout"/> bounds each request and each stream's
    /// connection, not the reading of a stream.</param>
    /// <param name="apiKey">An API key, <c>rdev_&lt;id&gt;_&lt;secret&gt;</c>.</param>
    public RdevClient(HttpClient httpClient, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        if (httpClient.BaseAddress is null)
        {
            throw new ArgumentException("The HttpClient needs a BaseAddress: the rdev API's URL.", nameof(httpClient));
        }

        http = httpClient;
        authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        baseUrl = httpClient.BaseAddress.ToString().TrimEnd('/');
        var adapter = new HttpClientRequestAdapter(new BearerKey(authorization), httpClient: httpClient) { BaseUrl = baseUrl };
        Api = new RdevApiClient(new ProblemRequestAdapter(adapter));
    }

    /// <summary>The root of the generated client (paths from <c>/</c>); <see cref="V1"/> is the usual way in.</summary>
    public RdevApiClient Api { get; }

    /// <summary><c>/api/v1</c>: keys, projects, commands, sessions, events and Claude Code configuration.</summary>
    public V1RequestBuilder V1 => Api.Api.V1;

    /// <summary>Consecutive failed reconnects (without an event in between) before a stream gives up and throws.</summary>
    public int MaxReconnectAttempts { get; init; } = 10;

    /// <summary>The first backoff delay after a failure when the server named none; it grows exponentially, with jitter.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Called before each reconnect of a stream, e.g. to tell the user that the connection was lost.</summary>
    public Action<StreamReconnect>? OnReconnect { get; init; }

    /// <summary>
    /// The events of a command (<c>output</c>, <c>claude</c>, <c>status</c>, <c>approval</c>, <c>message</c>) after
    /// <paramref name="lastEventId"/> (0: from the start), live until its final <c>status</c>, the last event yielded.
    /// </summary>
    public IAsyncEnumerable<CommandStreamEvent> StreamCommandAsync(
        Guid commandId, long lastEventId = 0, CancellationToken cancellationToken = default) =>
        Reader().ReadAsync($"{baseUrl}/api/v1/commands/{commandId}/stream", lastEventId, endsAtFinalStatus: true, cancellationToken);

    /// <summary>
    /// The events feed: a <c>command</c> event (<see cref="CommandStreamEvent.Command"/>) for each command the key may
    /// see being created or changing status, after <paramref name="lastEventId"/> (0: what the server still keeps),
    /// then live until cancelled. <paramref name="project"/> narrows it to one project.
    /// </summary>
    public IAsyncEnumerable<CommandStreamEvent> StreamEventsAsync(
        string? project = null, long lastEventId = 0, CancellationToken cancellationToken = default) =>
        Reader().ReadAsync($"{baseUrl}/api/v1/events" + (project is null ? "" : $"?project={Uri.EscapeDataString(project)}"),
            lastEventId, endsAtFinalStatus: false, cancellationToken);

    private EventStreamReader Reader() => new(http, authorization, this);

    /// <summary>Sets the key on each request Kiota sends.</summary>
    private sealed class BearerKey(AuthenticationHeaderValue authorization) : IAuthenticationProvider
    {
        public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null,
            CancellationToken cancellationToken = default)
        {
            request.Headers.TryAdd("Authorization", authorization.ToString());
            return Task.CompletedTask;
        }
    }
}
