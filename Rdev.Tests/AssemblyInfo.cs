using System.Runtime.Versioning;

// The suite runs real PostgreSQL servers, shells and kubectl: Linux only.
[assembly: SupportedOSPlatform("linux")]
