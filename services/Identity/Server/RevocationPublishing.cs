using MicroSecure.Identity.Options;
using MicroSecure.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace MicroSecure.Identity.Server;

/// <summary>
/// Puts what OpenIddict revokes on the revocation list every service reads (ServiceDefaults'
/// <see cref="TokenRevocation"/>), so an access token stops working at the APIs within seconds instead of
/// at its expiry. The list is a copy: the database stays the record, and a list that cannot be written is
/// logged, not turned into a failed revocation.
/// </summary>
public sealed partial class RevocationPublisher(
    TokenRevocation revocation, IOptions<IdentityServerOptions> options, TimeProvider timeProvider, ILogger<RevocationPublisher> logger)
{
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Revokes the access tokens of <paramref name="scope"/> <paramref name="id"/>; the entry lasts as long as
    /// any of them can (the access-token lifetime from now, or <paramref name="expires"/>), plus the largest clock skew an API allows.
    /// </summary>
    public async Task PublishAsync(RevocationScope scope, string? id, DateTimeOffset? expires = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(id))
        {
            return;
        }

        var until = (expires ?? timeProvider.GetUtcNow() + options.Value.AccessTokenLifetime) + JwtValidationOptions.MaxClockSkew;
        try
        {
            await revocation.RevokeAsync(scope, id, until, cancellationToken).WaitAsync(WriteTimeout, cancellationToken);
            LogPublished(scope, id);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogNotPublished(exception, scope, id);
        }
    }

    /// <summary>Revokes the access tokens of the client registered as application <paramref name="applicationId"/>.</summary>
    public async Task PublishApplicationAsync(IOpenIddictApplicationManager applications, string? applicationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(applications);
        if (applicationId is not null)
        {
            await PublishAsync(RevocationScope.Client, await applications.ClientIdOfAsync(applicationId, cancellationToken), cancellationToken: cancellationToken);
        }
    }

    /// <summary>
    /// What a bulk revocation by subject and/or application names. The list knows people and clients, not their
    /// pairs, so a subject's revocation covers all its clients.
    /// </summary>
    public Task PublishBulkAsync(IOpenIddictApplicationManager applications, string? subject, string? applicationId, CancellationToken cancellationToken) =>
        subject is { Length: > 0 }
            ? PublishAsync(RevocationScope.Subject, subject, cancellationToken: cancellationToken)
            : PublishApplicationAsync(applications, applicationId, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked access tokens of {Scope} {Id} at every service.")]
    private partial void LogPublished(RevocationScope scope, string id);

    [LoggerMessage(Level = LogLevel.Error, Message = "The revocation of {Scope} {Id} could not reach the services' revocation list; its access tokens stay valid at the APIs until they expire.")]
    private partial void LogNotPublished(Exception exception, RevocationScope scope, string id);
}

/// <summary>OpenIddict's token manager, telling the services about every revocation it makes, whichever path made it.</summary>
public sealed class RevocationPublishingTokenManager<TToken>(
    IOpenIddictTokenCache<TToken> cache,
    ILogger<OpenIddictTokenManager<TToken>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictTokenStore<TToken> store,
    RevocationPublisher publisher,
    IOpenIddictApplicationManager applications) : OpenIddictTokenManager<TToken>(cache, logger, options, store) where TToken : class
{
    public override async ValueTask<bool> TryRevokeAsync(TToken token, CancellationToken cancellationToken = default)
    {
        if (!await base.TryRevokeAsync(token, cancellationToken))
        {
            return false;
        }

        await publisher.PublishAsync(RevocationScope.Token, await GetIdAsync(token, cancellationToken), await GetExpirationDateAsync(token, cancellationToken), cancellationToken);
        // RFC 7009 §2.1: revoking a refresh token ends the access tokens of the same grant too.
        if (await GetTypeAsync(token, cancellationToken) is OpenIddictConstants.TokenTypeHints.RefreshToken or OpenIddictConstants.TokenTypeIdentifiers.RefreshToken)
        {
            await publisher.PublishAsync(RevocationScope.Authorization, await GetAuthorizationIdAsync(token, cancellationToken), cancellationToken: cancellationToken);
        }

        return true;
    }

    public override async ValueTask<long> RevokeByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        var count = await base.RevokeByAuthorizationIdAsync(identifier, cancellationToken);
        await publisher.PublishAsync(RevocationScope.Authorization, identifier, cancellationToken: cancellationToken);
        return count;
    }

    public override async ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken = default)
    {
        var count = await base.RevokeBySubjectAsync(subject, cancellationToken);
        await publisher.PublishBulkAsync(applications, subject, null, cancellationToken);
        return count;
    }

    public override async ValueTask<long> RevokeByApplicationIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        var count = await base.RevokeByApplicationIdAsync(identifier, cancellationToken);
        await publisher.PublishApplicationAsync(applications, identifier, cancellationToken);
        return count;
    }

    public override async ValueTask<long> RevokeAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken = default)
    {
        var count = await base.RevokeAsync(subject, client, status, type, cancellationToken);
        await publisher.PublishBulkAsync(applications, subject, client, cancellationToken);
        return count;
    }
}

/// <summary>OpenIddict's authorization manager, telling the services when a grant (and so its access tokens) is revoked.</summary>
public sealed class RevocationPublishingAuthorizationManager<TAuthorization>(
    IOpenIddictAuthorizationCache<TAuthorization> cache,
    ILogger<OpenIddictAuthorizationManager<TAuthorization>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictAuthorizationStore<TAuthorization> store,
    RevocationPublisher publisher,
    IOpenIddictApplicationManager applications) : OpenIddictAuthorizationManager<TAuthorization>(cache, logger, options, store) where TAuthorization : class
{
    public override async ValueTask<bool> TryRevokeAsync(TAuthorization authorization, CancellationToken cancellationToken = default)
    {
        if (!await base.TryRevokeAsync(authorization, cancellationToken))
        {
            return false;
        }

        await publisher.PublishAsync(RevocationScope.Authorization, await GetIdAsync(authorization, cancellationToken), cancellationToken: cancellationToken);
        return true;
    }

    public override async ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken = default)
    {
        var count = await base.RevokeBySubjectAsync(subject, cancellationToken);
        await publisher.PublishBulkAsync(applications, subject, null, cancellationToken);
        return count;
    }

    public override async ValueTask<long> RevokeByApplicationIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        var count = await base.RevokeByApplicationIdAsync(identifier, cancellationToken);
        await publisher.PublishApplicationAsync(applications, identifier, cancellationToken);
        return count;
    }

    public override async ValueTask<long> RevokeAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken = default)
    {
        var count = await base.RevokeAsync(subject, client, status, type, cancellationToken);
        await publisher.PublishBulkAsync(applications, subject, client, cancellationToken);
        return count;
    }
}

internal static class ApplicationManagerExtensions
{
    /// <summary>The client id (what access tokens carry) of the application with that database id.</summary>
    public static async ValueTask<string?> ClientIdOfAsync(this IOpenIddictApplicationManager applications, string identifier, CancellationToken cancellationToken) =>
        await applications.FindByIdAsync(identifier, cancellationToken) is { } application ? await applications.GetClientIdAsync(application, cancellationToken) : null;
}
