using System.Runtime.Versioning;

// The suite runs real PostgreSQL servers, shells and kubectl: Linux only.
[assembly: SupportedOSPlatform("linux")]

// Long classes start first, so that none of them runs alone at the end of the suite.
[assembly: TestCollectionOrderer("Rdev.Tests.Infrastructure.SlowFirstOrderer", "Rdev.Tests")]
