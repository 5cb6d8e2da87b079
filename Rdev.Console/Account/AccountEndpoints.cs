using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Rdev.Console.Api;

namespace Rdev.Console.Account;

/// <summary>
/// Sign-in and sign-out are plain form posts (with an antiforgery token), because only an HTTP response can set the
/// HttpOnly cookie that carries the key; the interactive pages read it from there.
/// </summary>
public static partial class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/account");
        account.MapPost("/signin", SignIn);
        account.MapPost("/signout", (Delegate)SignOut);
        return app;
    }

    public static async Task<IResult> SignIn(
        [FromForm] string? key, KeyCheck check, HttpContext context, ILogger<KeyCheck> logger, CancellationToken ct)
    {
        key = key?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            return Results.LocalRedirect("~/signin?error=empty");
        }

        KeyFacts? facts;
        try
        {
            facts = await check.CheckAsync(key, ct);
        }
        catch (Exception e) when (e is HttpRequestException or Rdev.Client.RdevProblemException or TaskCanceledException)
        {
            LogApiUnreachable(logger, e);
            return Results.LocalRedirect("~/signin?error=unreachable");
        }

        if (facts is null)
        {
            return Results.LocalRedirect("~/signin?error=invalid");
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, facts.KeyId),
                new Claim(ConsoleClaims.Key, key),
                new Claim(ConsoleClaims.CanApprove, facts.CanApprove ? "true" : "false"),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(new ClaimsPrincipal(identity));
        return Results.LocalRedirect("~/");
    }

    public static async Task<IResult> SignOut(HttpContext context)
    {
        await context.SignOutAsync();
        return Results.LocalRedirect("~/signin?signedout=1");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signing in failed: the API could not be reached")]
    private static partial void LogApiUnreachable(ILogger logger, Exception exception);
}
