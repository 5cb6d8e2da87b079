var builder = DistributedApplication.CreateBuilder(args);

var db = builder.AddRdevDatabase();
var bootstrapAdminKey = builder.AddBootstrapAdminKey();
var projectsRoot = builder.PrepareLocalProjectsRoot();

builder.AddProject<Projects.Rdev_Api>("api")
    .WithRdevRuntime(projectsRoot)
    .WithEnvironment("Rdev__BootstrapAdminKey", bootstrapAdminKey)
    .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
    .WithReference(db).WaitFor(db)
    .WithHttpHealthCheck("/ready")
    .WithExternalHttpEndpoints();

builder.AddProject<Projects.Rdev_Discovery>("discovery")
    .WithRdevRuntime(projectsRoot)
    .WithSampleProjectPolicy()
    .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
    .WithReference(db).WaitFor(db)
    .WithHttpHealthCheck("/ready");

builder.Build().Run();
