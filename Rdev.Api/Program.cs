using Rdev.Api;
using Rdev.Api.ClaudeConfig;
using Rdev.Api.Commands;
using Rdev.Api.Infrastructure;
using Rdev.Api.Keys;
using Rdev.Api.Projects;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseRdevProblemDetails();
app.UseForwardedHeaders();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapReadinessEndpoint();
app.MapApiDocs();
app.MapKeysApi();
app.MapProjectsApi();
app.MapCommandsApi();
app.MapClaudeConfigApi();

app.Run();
