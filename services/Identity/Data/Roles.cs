namespace MicroSecure.Identity.Data;

/// <summary>The roles people hold. APIs authorize on them (<c>role</c> claim in access tokens).</summary>
public static class Roles
{
    public const string User = "user";
    public const string Admin = "admin";
    public const string SecurityAdmin = "security-admin";

    public static readonly IReadOnlyList<string> All = [User, Admin, SecurityAdmin];
}
