
namespace MicroSecure.ServiceDefaults.Authorization;

/// <summary>One named policy's requirements, from <c>Security:Authorization:Policies:{name}</c>.</summary>
public sealed class PolicyRequirements
{
    /// <summary>Scopes the token must carry, all of them.</summary>
    public string[] Scopes { get; set; } = [];

    /// <summary>Roles of which the caller must hold at least one.</summary>
    public string[] Roles { get; set; } = [];

    /// <summary>
    /// Only services may call: the token must come from a client-credentials grant (no person behind it),
    /// whatever scopes a person's token carries. See <see cref="ServiceClientRequirement"/>.
    /// </summary>
    public bool ServicesOnly { get; set; }
}
