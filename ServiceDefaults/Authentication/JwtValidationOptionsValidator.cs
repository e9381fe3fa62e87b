using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroSecure.ServiceDefaults.Authentication;

/// <summary>Start-up rules that data annotations cannot express.</summary>
internal sealed class JwtValidationOptionsValidator(IHostEnvironment environment) : IValidateOptions<JwtValidationOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtValidationOptions options)
    {
        var failures = new List<string>();

        var forbidden = options.ValidAlgorithms.Where(JwtValidationOptions.ForbiddenAlgorithms.Contains).ToList();
        if (forbidden.Count > 0)
        {
            failures.Add($"Security:Jwt:ValidAlgorithms contains {string.Join(", ", forbidden)}: only asymmetric algorithms are allowed.");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > JwtValidationOptions.MaxClockSkew)
        {
            failures.Add($"Security:Jwt:ClockSkew must be between 0 and {JwtValidationOptions.MaxClockSkew}.");
        }

        if (options.Authority is { } authority)
        {
            if (!authority.IsAbsoluteUri)
            {
                failures.Add("Security:Jwt:Authority must be an absolute URL.");
            }
            else if (!environment.IsDevelopment() && (!options.RequireHttpsMetadata || authority.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add("Outside Development, Security:Jwt:Authority must be https and RequireHttpsMetadata must stay true.");
            }

            if (options.Audiences.Length == 0 || options.Audiences.Any(string.IsNullOrWhiteSpace))
            {
                failures.Add("Security:Jwt:Audiences is required when an Authority is set: a token for another API must be refused.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
