namespace Rdev.Tests.Infrastructure;

/// <summary>
/// Tests that read process-wide state (the OpenTelemetry meter listener sees the meters of every host in the test
/// process) run alone, so that other tests' measurements do not show up in what they count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}
