using System.Net.Http.Json;
using Microsoft.Playwright;
using Rdev.Tests.Commands;
using Rdev.Tests.Sessions;
using static Microsoft.Playwright.Assertions;

namespace Rdev.Tests.WebConsole;

/// <summary>
/// The web console in a real browser (the system's Chromium) against real console, API and Postgres processes: what
/// a person sees and taps. Screenshots go to <see cref="Browser.Screenshots"/>.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ConsoleTests(ConsoleHost host, Browser browser) : IClassFixture<ConsoleHost>, IClassFixture<Browser>
{
    [Fact]
    public async Task AWrongKeyIsRefusedWithAMessageAndSignOutForgetsTheRightOne()
    {
        var page = await browser.NewPageAsync(host.Url);

        await page.GotoAsync("");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"{ConsoleHost.PathBase}/signin"));
        await SignInAsync(page, "rdev_nosuchkey_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", expectInbox: false);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("did not accept this key");
        Assert.DoesNotContain("rdev_", page.Url, StringComparison.Ordinal);
        await Browser.ScreenshotAsync(page, "signin-wrong-key");

        await SignInAsync(page, CommandsHost.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Signed out");

        // The cookie is gone: the inbox asks for a key again.
        await page.GotoAsync("");
        await Expect(page.GetByLabel("API key")).ToBeVisibleAsync();

        // The key never reached the browser's storage or the console's log.
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Value.Contains("rdev_", StringComparison.Ordinal));
        Assert.DoesNotContain(CommandsHost.AdminKey, host.Console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProjectsPageShowsTheProjectWithItsStatusAndSettings()
    {
        var page = await browser.NewPageAsync(host.Url);
        await SignInAsync(page, CommandsHost.AdminKey);

        await page.GetByRole(AriaRole.Link, new() { Name = "Projects" }).ClickAsync();
        var card = page.Locator("li.project", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = ConsoleHost.Project }) });
        await Expect(card).ToContainTextAsync("running");
        await Expect(card).ToContainTextAsync("claude, git, shell");
        await Expect(card).ToContainTextAsync(host.Workspace);
        await Browser.ScreenshotAsync(page, "projects");
    }

    [Fact]
    public async Task AGitCommandRunFromTheFormShowsItsOutput()
    {
        var page = await browser.NewPageAsync(host.Url);
        await SignInAsync(page, CommandsHost.AdminKey);

        await page.GotoAsync($"run?project={ConsoleHost.Project}");
        await page.GetByLabel("Git arguments").FillAsync("log --oneline");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"{ConsoleHost.PathBase}/commands/[0-9a-f-]{{36}}$"));
        await Expect(page.Locator("pre.output")).ToContainTextAsync(ConsoleHost.FirstCommit);
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("succeeded");
        await Browser.ScreenshotAsync(page, "git-command");

        // It is listed in the project's commands.
        await page.GetByRole(AriaRole.Link, new() { Name = $"all commands of {ConsoleHost.Project}" }).ClickAsync();
        await Expect(page.Locator("li.command").First).ToContainTextAsync("log --oneline");
    }

    [Theory]
    [InlineData("desktop", 1280, 800)]
    [InlineData("phone", 390, 844)]
    public async Task AClaudeSessionWaitingForApprovalIsApprovedFromTheInboxAndShowsTheToolsResult(string name, int width, int height)
    {
        var page = await browser.NewPageAsync(host.Url, width, height);
        await SignInAsync(page, CommandsHost.AdminKey);
        var (id, file) = await host.StartWriteSessionAsync($"approved-on-{name}.txt");

        // The inbox shows it live (it was opened before the session asked), with the tool and its input.
        var card = page.Locator("li.card", new() { HasText = file });
        await Expect(card).ToContainTextAsync("waiting for approval");
        await Expect(card.Locator(".tool")).ToContainTextAsync("Write");
        await AssertFitsAsync(page, width);
        await Browser.ScreenshotAsync(page, $"inbox-{name}");

        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(card).ToHaveCountAsync(0);

        await page.Locator("ul.decided li", new() { HasText = "allowed" }).First
            .GetByRole(AriaRole.Link, new() { Name = "follow the session" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"{ConsoleHost.PathBase}/commands/{id}$"));
        await Expect(page.Locator(".event.tool-call")).ToContainTextAsync(file);
        await Expect(page.Locator(".event.tool-result")).ToContainTextAsync(file);
        await Expect(page.Locator(".event.assistant").Last).ToContainTextAsync("tool done:");
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("succeeded");
        await Expect(page.Locator(".event.result").Last).ToContainTextAsync("cost $");
        Assert.Equal(FakeAnthropicApi.WrittenContent, await File.ReadAllTextAsync(file));
        await AssertFitsAsync(page, width);
        await Browser.ScreenshotAsync(page, $"session-{name}");
    }

    [Fact]
    public async Task AKeyWithoutCommandsApproveSeesTheApprovalButNoApproveButton()
    {
        var page = await browser.NewPageAsync(host.Url, 390, 844);
        await SignInAsync(page, host.NoApproveKey);
        var (id, file) = await host.StartWriteSessionAsync("not-approved.txt");

        var card = page.Locator("li.card", new() { HasText = file });
        await Expect(card.Locator(".tool")).ToContainTextAsync("Write");
        await Expect(card).ToContainTextAsync("lacks commands:approve");
        await Expect(card.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToHaveCountAsync(0);
        await Expect(card.GetByRole(AriaRole.Button, new() { Name = "Deny" })).ToHaveCountAsync(0);
        await Browser.ScreenshotAsync(page, "inbox-no-approve-scope");

        // A person with the scope decides it; this key's inbox lets it go.
        var approval = Assert.Single(await SessionClient.ApprovalsAsync(host.Admin, id));
        await SessionClient.DecideAsync(host.Admin, id, approval.GetProperty("id").GetString()!, new { decision = "deny" });
        await Expect(card).ToHaveCountAsync(0);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task AKeptOpenClaudeSessionRunFromTheFormTakesAMessageAndCloses()
    {
        var page = await browser.NewPageAsync(host.Url);
        await SignInAsync(page, CommandsHost.AdminKey);

        await page.GotoAsync($"run?project={ConsoleHost.Project}");
        await page.GetByRole(AriaRole.Radio, new() { Name = "claude" }).CheckAsync();
        await page.GetByLabel("Prompt").FillAsync("hello from the console");
        await page.GetByLabel("Keep the session open for follow-up messages").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        await Expect(page.Locator(".event.assistant").First).ToContainTextAsync("echo: hello from the console");
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("waiting for input");
        await page.GetByLabel("Message to the session").FillAsync("and a second thing");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(page.Locator(".event.message")).ToContainTextAsync("and a second thing");
        await Expect(page.Locator(".event.assistant").Last).ToContainTextAsync("echo: and a second thing");
        await Expect(page.Locator(".event.result")).ToHaveCountAsync(2);

        await page.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("succeeded");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task AForbiddenCallShowsTheApisProblemAsAMessage()
    {
        var page = await browser.NewPageAsync(host.Url);
        await SignInAsync(page, host.NoApproveKey);

        await page.GotoAsync($"run?project={ConsoleHost.Project}");
        await page.GetByRole(AriaRole.Radio, new() { Name = "shell" }).CheckAsync();
        await page.GetByLabel("Shell command").FillAsync("echo hi");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("FORBIDDEN");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/run"));
    }

    [Fact]
    public async Task TheClaudeConfigEditorShowsAConflictInsteadOfOverwritingAChangeMadeMeanwhile()
    {
        const string original = "---\ndescription: Review the diff\n---\nReview the staged diff.\n";
        const string theirs = "---\ndescription: Review the diff\n---\nChanged elsewhere.\n";
        var items = $"/api/v1/projects/{ConsoleHost.Project}/claude-config/commands";
        Assert.True((await host.Admin.PostAsJsonAsync(items, new { name = "review", content = original })).IsSuccessStatusCode);
        var page = await browser.NewPageAsync(host.Url);
        await SignInAsync(page, CommandsHost.AdminKey);

        await page.GotoAsync($"projects/{ConsoleHost.Project}/claude-config");
        await page.GetByRole(AriaRole.Button, new() { Name = "review" }).ClickAsync();
        var editor = page.GetByLabel("Content (Markdown with optional front matter)");
        await Expect(editor).ToHaveValueAsync(original);

        // Someone else saves first; this editor's save must not overwrite it.
        using var update = new HttpRequestMessage(HttpMethod.Put, $"{items}/review") { Content = JsonContent.Create(new { content = theirs }) };
        update.Headers.TryAddWithoutValidation("If-Match", "*");
        Assert.True((await host.Admin.SendAsync(update)).IsSuccessStatusCode);
        await editor.FillAsync("mine\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("changed since you opened it");
        Assert.Equal(theirs, await File.ReadAllTextAsync(Path.Combine(host.Workspace, ".claude", "commands", "review.md")));
        await Browser.ScreenshotAsync(page, "claude-config-conflict");
        await page.GetByRole(AriaRole.Button, new() { Name = "Discard mine and load the current version" }).ClickAsync();
        await Expect(editor).ToHaveValueAsync(theirs);
    }

    private static async Task SignInAsync(IPage page, string key, bool expectInbox = true)
    {
        await page.GotoAsync("signin");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        if (expectInbox)
        {
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Inbox" })).ToBeVisibleAsync();
            // Live: the feed is open, so what happens from now on shows up.
            await Expect(page.GetByText("Live: new requests appear")).ToBeVisibleAsync();
        }
    }

    /// <summary>Nothing is wider than the screen: no sideways scrolling on a phone.</summary>
    private static async Task AssertFitsAsync(IPage page, int width) =>
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= width,
            $"The page scrolls sideways at {width} px.");
}
