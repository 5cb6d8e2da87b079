using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Rdev.Console.Api;

namespace Rdev.Console.Account;

/// <summary>What signing in learns about a pasted key from the API itself.</summary>
public sealed record KeyFacts(string KeyId, bool CanApprove);

public sealed class KeyCheck(IHttpClientFactory clients)
{
    /// <summary>
    /// Null when the API refuses the key (401). Any other answer to <c>GET /api/v1/projects</c> (even 403 for a key
    /// without <c>projects:read</c>) means the key is real. The API has no endpoint that tells a key its own scopes,
    /// so <c>commands:approve</c> is found the way the API itself decides it: a decision on a command that cannot
    /// exist is refused with 403 by the scope policy, which runs before the handler, and otherwise answers 404 and
    /// changes nothing.
    /// </summary>
    public async Task<KeyFacts?> CheckAsync(string key, CancellationToken ct)
    {
        var client = clients.CreateClient(ApiClients.Calls);
        using var projects = new HttpRequestMessage(HttpMethod.Get, "/api/v1/projects?limit=1");
        projects.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var answer = await client.SendAsync(projects, ct);
        if (answer.StatusCode == HttpStatusCode.Unauthorized)
        {
            return null;
        }

        if ((int)answer.StatusCode >= 500)
        {
            throw await ApiProblemException.ReadAsync(answer, ct);
        }

        using var probe = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/commands/{Guid.Empty}/approvals/{Guid.Empty}")
        {
            Content = JsonContent.Create(new { decision = "deny" }),
        };
        probe.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var probed = await client.SendAsync(probe, ct);
        return new KeyFacts(KeyIdOf(key), probed.StatusCode != HttpStatusCode.Forbidden);
    }

    /// <summary><c>rdev_&lt;id&gt;_&lt;secret&gt;</c>: the id, never the secret.</summary>
    public static string KeyIdOf(string key) =>
        key.Split('_') is [_, var id, ..] ? id : "key";
}
