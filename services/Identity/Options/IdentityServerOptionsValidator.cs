using Microsoft.Extensions.Options;

namespace MicroSecure.Identity.Options;

/// <summary>What Production needs that Development may go without: a fixed issuer and the keys.</summary>
internal sealed class IdentityServerOptionsValidator(IHostEnvironment environment) : IValidateOptions<IdentityServerOptions>
{
    public ValidateOptionsResult Validate(string? name, IdentityServerOptions options)
    {
        if (environment.IsDevelopment())
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (options.Issuer is null)
        {
            failures.Add("Identity:Issuer (the public base address) is required outside Development: without it every URL the server hands out would follow the request's Host header.");
        }

        if (options.SigningKey is not { Length: > 0 })
        {
            failures.Add("Identity:SigningKey (an RSA private key in PEM) is required outside Development.");
        }

        if (options.EncryptionKey is not { Length: > 0 })
        {
            failures.Add("Identity:EncryptionKey (a base64 256-bit key) is required outside Development.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
