using Rdev.Discovery;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDiscoveryServices();

var app = builder.Build();

app.UseRdevProblemDetails();

app.MapDefaultEndpoints();
app.MapReadinessEndpoint();

app.Run();
