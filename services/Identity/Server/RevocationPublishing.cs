using System.Threading.Channels;
using MicroSecure.Identity.Options;
using MicroSecure.ServiceDefaults;
using MicroSecure.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace MicroSecure.Identity.Server;

/// <summary>
/// Puts what OpenIddict revokes on the revocation list every service reads (ServiceDefaults'
/// <see cref="TokenRevocation"/>), so an access token stops working at the APIs within seconds instead of
/// at its expiry. The list is a copy: the database stays the record. A request waits on the list at most
/// <see cref="JwtValidationOptions.RevocationCheckTimeout"/>; a revocation the list cannot take then (Redis
/// restarting, unreachable) waits in a bounded queue and is written as soon as it can be, while any of the
/// tokens it covers can still be used. Only a full queue loses one, and that is logged as an error.
/// </summary>
public sealed partial class RevocationPublisher(
    TokenRevocation revocation, IOptions<IdentityServerOptions> options, IOptions<JwtValidationOptions> jwt,
    TimeProvider timeProvider, ILogger<RevocationPublisher> logger)
{
    /// <summary>Revocations waiting for the list; past it, new ones are lost (and logged).</summary>
    public const int MaxPending = 10_000;

    private readonly Channel<PendingRevocation> _pending = Channel.CreateBounded<PendingRevocation>(
        new BoundedChannelOptions(MaxPending) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private int _waiting;

    /// <summary>Revocations not yet on the list.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

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

        var now = timeProvider.GetUtcNow();
        var pending = new PendingRevocation(scope, id, (expires ?? now + options.Value.AccessTokenLifetime) + JwtValidationOptions.MaxClockSkew, now);
        // Behind revocations already waiting, a new one waits too: the list is known to be away, and order is kept.
        if (Waiting == 0)
        {
            try
            {
                await revocation.RevokeAsync(scope, id, pending.Queued, pending.Until, cancellationToken).WaitAsync(jwt.Value.RevocationCheckTimeout, timeProvider, cancellationToken);
                LogPublished(scope, id);
                return;
            }
            catch (Exception exception) when (RedisFailures.IsOutage(exception, cancellationToken))
            {
                LogDeferred(exception.GetType().Name, scope, id);
            }
        }

        Interlocked.Increment(ref _waiting);
        if (!_pending.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _waiting);
            LogNotPublished(scope, id, MaxPending);
        }
    }

    /// <summary>Writes the waiting revocations in order, each retried with backoff until written or no longer needed.</summary>
    internal async Task DeliverAsync(CancellationToken stoppingToken)
    {
        var delay = RetryDelay.First;
        await foreach (var pending in _pending.Reader.ReadAllAsync(stoppingToken))
        {
            while (true)
            {
                if (pending.Until <= timeProvider.GetUtcNow())
                {
                    LogNoLongerNeeded(pending.Scope, pending.Id);
                    break;
                }

                try
                {
                    // Dated when it happened, so a token issued while it waited (a new sign-in) stays valid.
                    await revocation.RevokeAsync(pending.Scope, pending.Id, pending.Queued, pending.Until, stoppingToken).WaitAsync(RetryDelay.WriteTimeout, timeProvider, stoppingToken);
                    var late = timeProvider.GetUtcNow() - pending.Queued;
                    LogPublishedLate(pending.Scope, pending.Id, late);
                    delay = RetryDelay.First;
                    break;
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogStillWaiting(exception.GetType().Name, Waiting, delay);
                    await Task.Delay(delay, timeProvider, stoppingToken);
                    delay = RetryDelay.Next(delay);
                }
            }

            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>A revocation made at <paramref name="Queued"/> (its time on the list), kept until <paramref name="Until"/>.</summary>
    private sealed record PendingRevocation(RevocationScope Scope, string Id, DateTimeOffset Until, DateTimeOffset Queued);

    private static class RetryDelay
    {
        public static readonly TimeSpan First = TimeSpan.FromMilliseconds(250);
        public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(2);
        private static readonly TimeSpan Longest = TimeSpan.FromSeconds(10);

        public static TimeSpan Next(TimeSpan delay) => delay * 2 < Longest ? delay * 2 : Longest;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The revocation list could not be written ({Error}); the revocation of {Scope} {Id} waits and is retried until it can be.")]
    private partial void LogDeferred(string error, RevocationScope scope, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The revocation list still cannot be written ({Error}); {Waiting} revocations wait, next attempt in {Delay}.")]
    private partial void LogStillWaiting(string error, int waiting, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked access tokens of {Scope} {Id} at every service, {Late} after the revocation.")]
    private partial void LogPublishedLate(RevocationScope scope, string id, TimeSpan late);

    [LoggerMessage(Level = LogLevel.Information, Message = "The waiting revocation of {Scope} {Id} is no longer needed: every token it covered has expired.")]
    private partial void LogNoLongerNeeded(RevocationScope scope, string id);

    [LoggerMessage(Level = LogLevel.Error, Message = "The revocation of {Scope} {Id} could not reach the services' revocation list and {MaxPending} others already wait; its access tokens stay valid at the APIs until they expire.")]
    private partial void LogNotPublished(RevocationScope scope, string id, int maxPending);
}

/// <summary>Writes the revocations the list could not take at once (see <see cref="RevocationPublisher"/>).</summary>
public sealed class RevocationDelivery(RevocationPublisher publisher) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await publisher.DeliverAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: what still waits is in the database, which stays the record.
        }
    }
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
