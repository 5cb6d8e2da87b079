namespace Rdev.Tests.Infrastructure;

public static class RepositoryRoot
{
    /// <summary>The folder holding Rdev.sln, found from the test binaries' location.</summary>
    public static string Path { get; } = Find();

    /// <summary>Debug or Release: the configuration these tests were built in.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{System.IO.Path.DirectorySeparatorChar}Release{System.IO.Path.DirectorySeparatorChar}")
            ? "Release" : "Debug";

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Rdev.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Rdev.sln not found above " + AppContext.BaseDirectory);
    }
}
