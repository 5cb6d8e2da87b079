using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Rdev.Console.Account;
using Rdev.Console.Api;

namespace Rdev.Console;

public static class Extensions
{
    public static void AddConsoleServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConsoleOptions>()
            .BindConfiguration(ConsoleOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddCascadingAuthenticationState();

        // The API key lives in this cookie only: encrypted and signed with Data Protection, HttpOnly, SameSite=Strict.
        builder.Services.AddDataProtection().SetApplicationName("rdev-console");
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                options.Cookie.Name = "rdev_console";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.LoginPath = "/signin";
                options.LogoutPath = "/account/signout";
                options.ExpireTimeSpan = TimeSpan.FromHours(12);
                options.SlidingExpiration = true;
            });
        builder.Services.AddAuthorization();

        builder.AddApiClients();
        builder.Services.AddScoped<ConsoleUser>();
        builder.Services.AddScoped<RdevApi>();
        builder.Services.AddTransient<KeyCheck>();
    }

    /// <summary>
    /// <c>Console:PathBase</c> (e.g. <c>/console</c>, where the Ingress routes it): every link, form and cookie of
    /// the console is relative to it. Routing comes after it, so that routes match below the base.
    /// </summary>
    public static void UseConsolePathBase(this WebApplication app)
    {
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ConsoleOptions>>().Value.PathBase is { Length: > 0 } pathBase)
        {
            app.UsePathBase(pathBase);
        }

        app.UseRouting();
    }

    public static void UseConsoleErrorPages(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }
    }
}
