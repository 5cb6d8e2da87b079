global using Rdev.Api.Infrastructure;
