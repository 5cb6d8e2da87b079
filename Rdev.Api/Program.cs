using Rdev.Api;
using Rdev.Api.Infrastructure;
using Rdev.Api.Projects;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseRdevProblemDetails();

app.MapDefaultEndpoints();
app.MapReadinessEndpoint();
app.MapApiDocs();
app.MapProjectsApi();

app.Run();
