using System.Net;
using Rdev.Client;
using Models = Rdev.Client.Generated.Models;

namespace Rdev.Console.Account;

/// <summary>What signing in learns about a pasted key from the API itself.</summary>
public sealed record KeyFacts(string KeyId, bool CanApprove);

public sealed class KeyCheck(IRdevClientFactory clients)
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
        var client = clients.Create(key);
        try
        {
            await client.V1.Projects.GetAsync(r => r.QueryParameters.Limit = 1, ct);
        }
        catch (RdevProblemException problem) when (problem.Status == (int)HttpStatusCode.Unauthorized)
        {
            return null;
        }
        catch (RdevProblemException problem) when (problem.Status < 500)
        {
            // A real key without projects:read (403), or limited in another way: signing in still works.
        }

        try
        {
            await client.V1.Commands[Guid.Empty].Approvals[Guid.Empty].PostAsync(new Models.ApprovalDecision { Decision = "deny" }, cancellationToken: ct);
            return new KeyFacts(KeyIdOf(key), true);
        }
        catch (RdevProblemException problem) when (problem.Status < 500)
        {
            return new KeyFacts(KeyIdOf(key), problem.Status != (int)HttpStatusCode.Forbidden);
        }
    }

    /// <summary><c>rdev_&lt;id&gt;_&lt;secret&gt;</c>: the id, never the secret.</summary>
    public static string KeyIdOf(string key) =>
        key.Split('_') is [_, var id, ..] ? id : "key";
}
