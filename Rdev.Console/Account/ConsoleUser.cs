using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Rdev.Client;

namespace Rdev.Console.Account;

/// <summary>The signed-in key of this circuit (scoped: one per browser tab), read from the sign-in cookie's claims.</summary>
public sealed class ConsoleUser(AuthenticationStateProvider authentication)
{
    private ClaimsPrincipal? user;
    private bool approveRefused;

    /// <summary>The key's id, the part between <c>rdev_</c> and the secret: safe to show.</summary>
    public string KeyId => user?.Identity?.Name ?? "";

    /// <summary>Whether to offer Approve and Deny: decided at sign-in, and withdrawn after any 403 on a decision.</summary>
    public bool CanApprove => !approveRefused && user?.FindFirst(ConsoleClaims.CanApprove)?.Value == "true";

    public void ApproveRefused() => approveRefused = true;

    public async Task<string> KeyAsync()
    {
        user ??= (await authentication.GetAuthenticationStateAsync()).User;
        return user.FindFirst(ConsoleClaims.Key)?.Value
            ?? throw new RdevProblemException(StatusCodes.Status401Unauthorized, "UNAUTHORIZED", "Not signed in", "Sign in again.");
    }

    public Task LoadAsync() => KeyAsync();
}
