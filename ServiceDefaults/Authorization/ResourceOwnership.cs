using System.Security.Claims;

namespace MicroSecure.ServiceDefaults.Authorization;

/// <summary>
/// Object-level authorization for data access: the owner or an administrator may see a resource, nobody
/// else. Use it in the query, so a non-owner's lookup finds nothing and answers 404: a 403 would confirm
/// that the object exists.
/// </summary>
public static class ResourceOwnership
{
    /// <summary>The role that may act on every user's resources.</summary>
    public const string AdminRole = "admin";

    /// <summary>The caller's subject (<c>sub</c>), or null for an anonymous caller.</summary>
    public static string? SubjectOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Identity?.IsAuthenticated == true ? user.FindFirst("sub")?.Value : null;
    }

    /// <summary>
    /// Narrows <paramref name="query"/> to the caller's own rows unless the caller is an administrator.
    /// An anonymous caller gets nothing.
    /// </summary>
    public static IQueryable<T> OwnedBy<T>(this IQueryable<T> query, ClaimsPrincipal user, System.Linq.Expressions.Expression<Func<T, string>> owner)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(owner);

        if (user.IsInRole(AdminRole))
        {
            return query;
        }

        var subject = SubjectOf(user);
        if (subject is null)
        {
            return query.Where(_ => false);
        }

        // Compare against a member of a captured object, not a constant, so EF Core sends a parameter and
        // reuses one compiled query for every caller.
        var captured = System.Linq.Expressions.Expression.Property(
            System.Linq.Expressions.Expression.Constant(new SubjectHolder(subject)), nameof(SubjectHolder.Value));
        var equals = System.Linq.Expressions.Expression.Equal(owner.Body, captured);
        return query.Where(System.Linq.Expressions.Expression.Lambda<Func<T, bool>>(equals, owner.Parameters));
    }

    private sealed record SubjectHolder(string Value);
}
