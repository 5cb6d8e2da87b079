using Microsoft.Playwright;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.WebConsole;

/// <summary>
/// Chromium from the operating system (scripts/test.sh installs Debian's package and names it in
/// <c>RDEV_TEST_CHROMIUM</c>), driven by Playwright. No browser is ever downloaded.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public const string ChromiumVariable = "RDEV_TEST_CHROMIUM";
    public const string ScreenshotsVariable = "RDEV_TEST_SCREENSHOTS";

    private IPlaywright? playwright;

    public IBrowser Chromium { get; private set; } = null!;

    /// <summary>Where screenshots go: <c>RDEV_TEST_SCREENSHOTS</c>, else TestResults/screenshots in the repository.</summary>
    public static string Screenshots { get; } =
        Environment.GetEnvironmentVariable(ScreenshotsVariable) is { Length: > 0 } folder
            ? folder : Path.Combine(RepositoryRoot.Path, "TestResults", "screenshots");

    public static string ChromiumPath =>
        new[] { Environment.GetEnvironmentVariable(ChromiumVariable), "/usr/bin/chromium" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
        ?? throw new InvalidOperationException(
            $"{ChromiumVariable} does not name a Chromium. Run the tests with scripts/test.sh, which installs the system's Chromium.");

    public async Task InitializeAsync()
    {
        playwright = await Playwright.CreateAsync();
        // A Claude session's first turn starts the real CLI: seconds, not Playwright's default 5.
        Assertions.SetDefaultExpectTimeout(30_000);
        // As root (CI), Chromium's sandbox cannot start; the pages are the test's own.
        Chromium = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
    }

    /// <summary>A fresh browser profile (no cookie) at the given viewport, with Playwright's waits bounded.</summary>
    public async Task<IPage> NewPageAsync(Uri console, int width = 1280, int height = 800)
    {
        var context = await Chromium.NewContextAsync(new() { BaseURL = console.ToString(), ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, $"{name}.png"), FullPage = true });
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }

        playwright?.Dispose();
    }
}
