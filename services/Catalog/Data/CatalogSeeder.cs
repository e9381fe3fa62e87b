using MicroSecure.Catalog.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Catalog.Data;

/// <summary>Fills an empty catalogue with a few products, once. Runs after the database initializer.</summary>
internal sealed partial class CatalogSeeder(IServiceScopeFactory scopeFactory, ILogger<CatalogSeeder> logger) : IHostedService
{
    private static readonly (string Name, string Description, decimal Price, int Stock)[] Products =
    [
        ("Hardware security key", "FIDO2 USB-C key for phishing-resistant sign-in.", 49.00m, 120),
        ("Privacy screen filter, 14-inch", "Keeps shoulder surfers off your laptop screen.", 29.90m, 300),
        ("Webcam cover (3 pack)", "Slide covers for laptop cameras.", 6.50m, 1000),
        ("Encrypted USB drive 64 GB", "Hardware-encrypted drive with a PIN pad.", 119.00m, 45),
        ("Faraday sleeve", "Blocks RF for phones and key fobs.", 24.00m, 80),
        ("Cable lock", "Kensington-slot lock with a 1.8 m cable.", 19.99m, 200),
        ("Threat modeling cards", "A deck for STRIDE sessions with your team.", 35.00m, 60),
        ("Secure shredder", "Micro-cut shredder, P-5 security level.", 189.00m, 15),
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CatalogDbContext>();
        if (await db.Products.AnyAsync(cancellationToken))
        {
            return;
        }

        db.Products.AddRange(Products.Select(p => new Product { Name = p.Name, Description = p.Description, Price = p.Price, Stock = p.Stock }));
        await db.SaveChangesAsync(cancellationToken);
        LogSeeded(Products.Length);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Information, "Seeded the empty catalogue with {Count} products.")]
    private partial void LogSeeded(int count);
}
