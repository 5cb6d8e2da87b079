namespace Rdev.Console.Account;

/// <summary>Claims of the console's sign-in cookie.</summary>
public static class ConsoleClaims
{
    /// <summary>The API key itself. Only in the Data-Protection-encrypted cookie and the circuit's memory.</summary>
    public const string Key = "rdev:key";

    /// <summary>"true" when the key may decide approvals (it has <c>commands:approve</c> or <c>admin</c>).</summary>
    public const string CanApprove = "rdev:can_approve";
}
