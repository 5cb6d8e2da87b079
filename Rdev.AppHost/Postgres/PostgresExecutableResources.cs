namespace Rdev.AppHost.Postgres;

/// <summary>
/// A real PostgreSQL server started by the AppHost as a local process, for machines without a
/// container engine. The connection string points at the endpoint DCP gives it.
/// </summary>
public sealed class PostgresServerExecutableResource(string name, string command, string workingDirectory, string password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    internal const string EndpointName = "tcp";

    internal string Password { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.IPV4Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username=postgres;Password={Password}");
}

/// <summary>A database inside <see cref="PostgresServerExecutableResource"/>; created when the server is ready.</summary>
public sealed class PostgresExecutableDatabaseResource(string name, string databaseName, PostgresServerExecutableResource parent)
    : Resource(name), IResourceWithParent<PostgresServerExecutableResource>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public PostgresServerExecutableResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}
