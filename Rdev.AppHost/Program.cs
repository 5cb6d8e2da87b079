var builder = DistributedApplication.CreateBuilder(args);

var db = builder.AddRdevDatabase();
var bootstrapAdminKey = builder.AddBootstrapAdminKey();
var projectsRoot = builder.PrepareLocalProjectsRoot();

// Database connections per process (Rdev:Database:MaxPoolSize): API replicas × 20 + discovery's 5 stays under
// PostgreSQL's default max_connections of 100, a rollout's extra replica included (docs/architecture.md).
var api = builder.AddProject<Projects.Rdev_Api>("api")
    .WithRdevRuntime(projectsRoot)
    .WithEnvironment("Rdev__Database__MaxPoolSize", "20")
    .WithEnvironment("Rdev__BootstrapAdminKey", bootstrapAdminKey)
    .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
    .WithReference(db).WaitFor(db)
    .WithHttpHealthCheck("/ready")
    .WithExternalHttpEndpoints()
    .PrintWelcomeWhenReady(bootstrapAdminKey);

builder.AddProject<Projects.Rdev_Discovery>("discovery")
    .WithRdevRuntime(projectsRoot)
    .WithEnvironment("Rdev__Database__MaxPoolSize", "5")
    .WithSampleProjectPolicy()
    .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
    .WithReference(db).WaitFor(db)
    .WithHttpHealthCheck("/ready");

// The web console calls the api like any client, with the key a person signs in with (docs/console.md).
builder.AddProject<Projects.Rdev_Console>("console")
    .WithReference(api).WaitFor(api)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .PrintConsoleUrlWhenReady();

builder.Build().Run();
