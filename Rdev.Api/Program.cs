using Rdev.Api;
using Rdev.Api.Infrastructure;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseRdevProblemDetails();

app.MapDefaultEndpoints();
app.MapReadinessEndpoint();
app.MapApiDocs();

app.Run();
