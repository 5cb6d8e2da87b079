namespace Rdev.Discovery;

/// <summary>
/// A public type in the discovery assembly for <c>WebApplicationFactory&lt;DiscoveryMarker&gt;</c>; the test project
/// references the API too, so the top-level <c>Program</c> classes would be ambiguous.
/// </summary>
public sealed class DiscoveryMarker;
