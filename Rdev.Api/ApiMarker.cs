namespace Rdev.Api;

/// <summary>
/// A public type in the API assembly for <c>WebApplicationFactory&lt;ApiMarker&gt;</c>; the test project also references
/// the AppHost, so the two top-level <c>Program</c> classes would collide.
/// </summary>
public sealed class ApiMarker;
