namespace Rdev.AppHost.Postgres;

/// <summary>Finds the PostgreSQL server programs (postgres and initdb) on this machine.</summary>
public static class PostgresServerBinaries
{
    public static string? Find(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return HasServer(configured) ? configured : null;
        }

        // Debian and Ubuntu install the server outside PATH, one folder per major version.
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(dir => (Version: int.TryParse(Path.GetFileName(dir), out var v) ? v : 0, Bin: Path.Combine(dir, "bin")))
                .Where(candidate => HasServer(candidate.Bin))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(HasServer);
    }

    private static bool HasServer(string bin) =>
        File.Exists(Path.Combine(bin, "postgres")) && File.Exists(Path.Combine(bin, "initdb"));
}
