using System.Security.Cryptography;
using MicroSecure.Identity.Data;
using MicroSecure.Identity.Options;
using Microsoft.IdentityModel.Tokens;

namespace MicroSecure.Identity.Extensions;

internal static class Extensions
{
    /// <summary>The identity server's own wiring: its database and OpenIddict.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<IdentityDbContext>("identitydb");

        // The validation source generator runs in the assembly that declares the endpoints, so each service adds it.
        builder.Services.AddValidation();

        builder.Services.AddValidatedOptions<IdentityServerOptions>(IdentityServerOptions.SectionName)
            .Validate(o => o.Clients.Values.All(c => string.IsNullOrEmpty(c.Secret) || c.Secret.Length >= 32), "Identity:Clients:*:Secret must be at least 32 characters.");
        var identity = builder.Configuration.GetSection(IdentityServerOptions.SectionName).Get<IdentityServerOptions>() ?? new IdentityServerOptions();
        var isDevelopment = builder.Environment.IsDevelopment();

        builder.Services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<IdentityDbContext>())
            .AddServer(server =>
            {
                server.SetTokenEndpointUris("connect/token");
                server.AllowClientCredentialsFlow();
                server.RegisterScopes([.. identity.Scopes.Select(scope => scope.Name)]);
                server.SetAccessTokenLifetime(identity.AccessTokenLifetime);
                if (identity.Issuer is not null)
                {
                    server.SetIssuer(identity.Issuer);
                }

                // APIs validate access tokens themselves (ServiceDefaults), so they are signed, not encrypted.
                server.DisableAccessTokenEncryption();
                AddKeys(server, identity, isDevelopment);

                var aspNetCore = server.UseAspNetCore().EnableTokenEndpointPassthrough();
                if (isDevelopment)
                {
                    // Locally the AppHost runs everything over http; outside Development TLS is required.
                    aspNetCore.DisableTransportSecurityRequirement();
                }
            });

        builder.Services.AddHostedService<OpenIddictSeeder>();
    }

    private static void AddKeys(OpenIddictServerBuilder server, IdentityServerOptions identity, bool isDevelopment)
    {
        if (identity.SigningKey is { Length: > 0 } pem)
        {
            server.AddSigningKey(RsaKey(pem));
            if (identity.PreviousSigningKey is { Length: > 0 } previous)
            {
                // Published in the JWKS, not used to sign: tokens from before a rotation still validate.
                server.AddSigningKey(RsaKey(previous));
            }
        }
        else if (isDevelopment)
        {
            server.AddDevelopmentSigningCertificate();
        }
        else
        {
            throw new InvalidOperationException("Identity:SigningKey (an RSA private key in PEM) is required outside Development.");
        }

        if (identity.EncryptionKey is { Length: > 0 } encryption)
        {
            server.AddEncryptionKey(new SymmetricSecurityKey(Convert.FromBase64String(encryption)));
        }
        else if (isDevelopment)
        {
            server.AddDevelopmentEncryptionCertificate();
        }
        else
        {
            throw new InvalidOperationException("Identity:EncryptionKey (a base64 256-bit key) is required outside Development.");
        }
    }

    private static RsaSecurityKey RsaKey(string pem)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return new RsaSecurityKey(rsa) { KeyId = Base64UrlEncoder.Encode(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..16] };
    }
}
