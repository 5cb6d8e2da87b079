using Rdev.Api;
using Rdev.Api.ClaudeConfig;
using Rdev.Api.Commands;
using Rdev.Api.Infrastructure;
using Rdev.Api.Keys;
using Rdev.Api.Projects;
using Rdev.Api.Sessions;

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
app.MapSessionsApi();
app.MapClaudeConfigApi();

app.Run();
