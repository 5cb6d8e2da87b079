using BenchmarkDotNet.Running;

namespace Rdev.Benchmarks;

public static class BenchmarkProgram
{
    /// <summary><c>dotnet run -c Release --project Rdev.Benchmarks -- --job short --filter '*'</c> (see docs/benchmarks.md).</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
}
