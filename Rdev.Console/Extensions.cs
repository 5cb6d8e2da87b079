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

    public static void UseConsoleErrorPages(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }
    }
}
