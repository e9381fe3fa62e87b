using Microsoft.Extensions.Hosting;

namespace MicroSecure.ServiceDefaults.Authorization;

/// <summary>The name of a policy a service defines in code (<see cref="AuthorizationExtensions.AddSecurityPolicy"/>); its posture lists them.</summary>
public sealed record SecurityPolicyName(string Name);
