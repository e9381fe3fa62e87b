using System.Security.Cryptography;
using Aspire.Hosting.Publishing;

namespace MicroSecure.AppHost.Infrastructure;

/// <summary>
/// Generates key material for a parameter on first run (kept in the AppHost's user secrets when the
/// parameter persists). Published, the parameter has no default: the deployment supplies its own keys.
/// </summary>
internal sealed class GeneratedKeyParameterDefault(Func<string> generate) : ParameterDefault
{
    /// <summary>An RSA 2048 private key in PEM (PKCS#8), for signing tokens.</summary>
    public static GeneratedKeyParameterDefault RsaPrivateKey { get; } = new(() =>
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    });

    /// <summary>A random 256-bit key in base64, for encrypting codes and refresh tokens.</summary>
    public static GeneratedKeyParameterDefault SymmetricKey { get; } = new(() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

    public override string GetDefaultValue() => generate();

    public override void WriteToManifest(ManifestPublishingContext context)
    {
        // Nothing: a deployment's keys are its own, never derived from a developer's machine.
    }
}
