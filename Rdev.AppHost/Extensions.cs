using Rdev.AppHost.Postgres;
using Rdev.Core.Projects;

namespace Rdev.AppHost;

public static class Extensions
{
    private const string DatabaseName = "rdevdb";

    /// <summary>
    /// The <c>rdevdb</c> database. <c>Rdev:Postgres</c> picks how Postgres runs: <c>container</c>, <c>executable</c>
    /// (the local PostgreSQL server binaries, for machines without a container engine) or <c>external</c> (the
    /// <c>ConnectionStrings:rdevdb</c> given). Unset: external when a connection string is given, else executable
    /// when the server binaries are found, else container. Publishing always describes a deployable shape.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddRdevDatabase(this IDistributedApplicationBuilder builder)
    {
        var mode = ChoosePostgresMode(builder, out var binDirectory);
        return mode switch
        {
            PostgresMode.External => builder.AddConnectionString(DatabaseName),
            PostgresMode.Executable => builder.AddExecutablePostgres(
                "postgres", DatabaseName, binDirectory!, Path.Combine(builder.StateDirectory(), "postgres")),
            _ => builder.AddPostgres("postgres").WithDataVolume("rdev-postgres-data").AddDatabase(DatabaseName),
        };
    }

    private enum PostgresMode { Container, Executable, External }

    private static PostgresMode ChoosePostgresMode(IDistributedApplicationBuilder builder, out string? binDirectory)
    {
        binDirectory = null;
        var configured = builder.Configuration["Rdev:Postgres"];
        PostgresMode? explicitMode = configured?.ToLowerInvariant() switch
        {
            null or "" => null,
            "container" => PostgresMode.Container,
            "executable" => PostgresMode.Executable,
            "external" => PostgresMode.External,
            _ => throw new InvalidOperationException(
                $"Rdev:Postgres must be 'container', 'executable' or 'external', not '{configured}'."),
        };

        // The manifest must not depend on the machine that produced it.
        if (builder.ExecutionContext.IsPublishMode)
        {
            return explicitMode == PostgresMode.External ? PostgresMode.External : PostgresMode.Container;
        }

        if (explicitMode is null && !string.IsNullOrEmpty(builder.Configuration.GetConnectionString(DatabaseName)))
        {
            return PostgresMode.External;
        }

        if (explicitMode is null or PostgresMode.Executable)
        {
            binDirectory = PostgresServerBinaries.Find(builder.Configuration["Rdev:PostgresBinDirectory"]);
            if (binDirectory is not null)
            {
                return PostgresMode.Executable;
            }

            if (explicitMode == PostgresMode.Executable)
            {
                throw new InvalidOperationException(
                    "Rdev:Postgres=executable but no PostgreSQL server (postgres and initdb) was found. Install it " +
                    "(apt-get install postgresql) or set Rdev:PostgresBinDirectory.");
            }
        }

        return explicitMode ?? PostgresMode.Container;
    }

    /// <summary>
    /// The first admin key, <c>rdev_bootstrap_&lt;secret&gt;</c>, from a generated secret parameter that Aspire keeps
    /// in the AppHost's user secrets. Read it in the dashboard: the <c>bootstrap-admin-secret</c> parameter, or the
    /// api resource's <c>Rdev__BootstrapAdminKey</c> environment variable.
    /// </summary>
    public static ReferenceExpression AddBootstrapAdminKey(this IDistributedApplicationBuilder builder)
    {
        var secret = builder.AddParameter(
            "bootstrap-admin-secret",
            new GenerateParameterDefault { MinLength = 40, Special = false },
            secret: true,
            persist: true)
            .WithDescription("Secret part of the bootstrap admin key. The full key is rdev_bootstrap_<this value>.");
        return ReferenceExpression.Create($"rdev_bootstrap_{secret}");
    }

    /// <summary>
    /// The folder whose subfolders are local projects: <c>Rdev:Local:ProjectsRoot</c>, else a git-ignored folder in
    /// the repository, seeded with a small sample git repository the first time.
    /// </summary>
    public static string? PrepareLocalProjectsRoot(this IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return null;
        }

        var root = builder.Configuration["Rdev:Local:ProjectsRoot"];
        if (string.IsNullOrWhiteSpace(root))
        {
            root = Path.Combine(builder.StateDirectory(), "projects");
            SampleProject.EnsureCreated(root);
        }

        return Path.GetFullPath(root);
    }

    /// <summary>Runtime settings shared by api and discovery: local folders when run, Kubernetes when published.</summary>
    public static IResourceBuilder<ProjectResource> WithRdevRuntime(this IResourceBuilder<ProjectResource> service, string? projectsRoot)
    {
        var configuration = service.ApplicationBuilder.Configuration;

        // Aspire turns on ASP.NET Core's forwarded headers for every published project, which believes
        // X-Forwarded-For from anyone. rdev honours it only from Rdev:TrustedProxies (SPEC section 5).
        service.WithEnvironment("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "false");

        if (projectsRoot is null)
        {
            return service.WithEnvironment("Rdev__Runtime", ProjectRuntime.Kubernetes);
        }

        return service
            .WithEnvironment("Rdev__Runtime", configuration["Rdev:Runtime"] ?? ProjectRuntime.Local)
            .WithEnvironment("Rdev__Local__ProjectsRoot", projectsRoot);
    }

    /// <summary>
    /// Pins the sample project's policy for discovery: it allows shell, so a fresh local run has something to try
    /// every command kind on. A project's policy comes from the operator, never from its workspace's
    /// <c>.rdev.yaml</c>, which may only narrow it. Only for the AppHost's own projects root (a root given in
    /// <c>Rdev:Local:ProjectsRoot</c> may hold an unrelated <c>hello</c>) and never in the published manifest.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSampleProjectPolicy(this IResourceBuilder<ProjectResource> discovery)
    {
        var builder = discovery.ApplicationBuilder;
        if (builder.ExecutionContext.IsPublishMode || !string.IsNullOrWhiteSpace(builder.Configuration["Rdev:Local:ProjectsRoot"]))
        {
            return discovery;
        }

        var pin = $"Rdev__Local__Projects__{SampleProject.Name}__";
        for (var i = 0; i < SampleProject.AllowedCommands.Length; i++)
        {
            discovery.WithEnvironment($"{pin}AllowedCommands__{i}", SampleProject.AllowedCommands[i]);
        }
        return discovery;
    }

    /// <summary>Git-ignored folder for state the AppHost keeps between runs (Postgres data, sample projects).</summary>
    private static string StateDirectory(this IDistributedApplicationBuilder builder) =>
        builder.Configuration["Rdev:StateDirectory"]
        ?? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".rdev"));
}
