using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace MicroSecure.ServiceDefaults.Authorization;

/// <summary>
/// Records every 403 as an <c>AuthorizationDenied</c> event naming the policy and what was missing, then
/// lets the default handler answer (its empty 403 becomes problem details through status-code pages).
/// </summary>
internal sealed class AuthorizationEvents(SecurityEventRecorder recorder) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden)
        {
            var failed = authorizeResult.AuthorizationFailure?.FailedRequirements ?? [];
            var reason = failed.Any(r => r is ServiceClientRequirement) ? "not_a_service"
                : failed.Any(r => r is RolesAuthorizationRequirement) ? "missing_role"
                : failed.Any(r => r is AssertionRequirement) ? "insufficient_scope"
                : "policy_failed";
            var policyName = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>()
                .Select(data => data.Policy).FirstOrDefault(name => name is not null);
            recorder.Record(context, SecurityEventKinds.AuthorizationDenied, SecurityEventSeverities.Medium, reason, policyName);
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
