using System.ComponentModel.DataAnnotations;
using MicroSecure.Catalog.Data;
using MicroSecure.Catalog.Model;
using MicroSecure.ServiceDefaults.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Catalog.Apis;

/// <summary>A product as clients see it. <c>Version</c> is what an update must name.</summary>
public sealed record ProductResponse(int Id, string Name, string Description, decimal Price, int Stock, Guid Version)
{
    public static ProductResponse From(Product p) => new(p.Id, p.Name, p.Description, p.Price, p.Stock, p.Version);
}

/// <summary>One page of products.</summary>
public sealed record ProductPage(IReadOnlyList<ProductResponse> Items, int Page, int PageSize, int TotalCount);

/// <summary>What an administrator sets on a product. Id and version are not the client's to choose.</summary>
public sealed record ProductRequest(
    [property: Required, StringLength(ProductRules.NameMaxLength, MinimumLength = 1)] string Name,
    [property: StringLength(ProductRules.DescriptionMaxLength)] string? Description,
    [property: Range(ProductRules.MinPrice, ProductRules.MaxPrice)] decimal Price,
    [property: Range(0, ProductRules.MaxStock)] int Stock);

/// <summary>An update: the new values and the version they were based on.</summary>
public sealed record ProductUpdateRequest(
    [property: Required, StringLength(ProductRules.NameMaxLength, MinimumLength = 1)] string Name,
    [property: StringLength(ProductRules.DescriptionMaxLength)] string? Description,
    [property: Range(ProductRules.MinPrice, ProductRules.MaxPrice)] decimal Price,
    [property: Range(0, ProductRules.MaxStock)] int Stock,
    [property: Required] Guid? Version);

/// <summary>A service asking for current prices (orders pricing an order).</summary>
public sealed record PriceLookupRequest([property: Required, Length(1, ProductRules.MaxLookupIds)] int[] Ids);

/// <summary>The current name and price of a product, for another service.</summary>
public sealed record ProductPrice(int Id, string Name, decimal Price);

/// <summary>
/// The catalogue API. Reading is anonymous; changing it needs the <c>catalog-admin</c> policy (scope
/// <c>catalog:write</c> and role <c>admin</c>); price lookups for other services need the <c>catalog-service</c>
/// policy (a client-credentials token with <c>catalog:read</c>).
/// </summary>
public static class CatalogApi
{
    public const string AdminPolicy = "catalog-admin";
    public const string ServicePolicy = "catalog-service";

    /// <summary>What each policy the endpoints name requires.</summary>
    public static IHostApplicationBuilder AddCatalogPolicies(this IHostApplicationBuilder builder) => builder
        .AddSecurityPolicy(AdminPolicy, policy => policy.RequireScope("catalog:write").RequireRole(ResourceOwnership.AdminRole))
        // A service's own token only: a person's token with the scope is refused (not_a_service).
        .AddSecurityPolicy(ServicePolicy, policy => policy.RequireScope("catalog:read").RequireServiceClient());

    public static RouteGroupBuilder MapCatalogApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/catalog").WithTags("Catalog");

        api.MapGet("/products", ListAsync).AllowAnonymous();
        api.MapGet("/products/{id:int}", GetAsync).AllowAnonymous();
        api.MapPost("/products", CreateAsync).RequireAuthorization(AdminPolicy);
        api.MapPut("/products/{id:int}", UpdateAsync).RequireAuthorization(AdminPolicy);
        api.MapDelete("/products/{id:int}", DeleteAsync).RequireAuthorization(AdminPolicy);
        api.MapPost("/prices", PricesAsync).RequireAuthorization(ServicePolicy);
        return api;
    }

    public static async Task<Ok<ProductPage>> ListAsync(
        CatalogDbContext db, CancellationToken cancellationToken,
        [Range(1, 10_000)] int page = 1,
        [Range(1, ProductRules.MaxPageSize)] int pageSize = ProductRules.DefaultPageSize,
        [StringLength(ProductRules.MaxSearchLength)] string? search = null)
    {
        var query = db.Products.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            // A parameter inside a LIKE that EF escapes: '%', '_' and quotes in the term match themselves.
            var term = search.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // Runs as SQL lower() and a substring test, not as .NET string code.
            query = query.Where(p => p.Name.ToLower().Contains(term));
#pragma warning restore CA1304, CA1311, CA1862
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(p => p.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new ProductPage([.. items.Select(ProductResponse.From)], page, pageSize, total));
    }

    public static async Task<Results<Ok<ProductResponse>, NotFound>> GetAsync(int id, CatalogDbContext db, CancellationToken cancellationToken) =>
        await db.Products.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, cancellationToken) is { } product
            ? TypedResults.Ok(ProductResponse.From(product))
            : TypedResults.NotFound();

    public static async Task<Created<ProductResponse>> CreateAsync(ProductRequest request, CatalogDbContext db, CancellationToken cancellationToken)
    {
        var product = new Product { Name = request.Name.Trim(), Description = request.Description?.Trim() ?? "", Price = request.Price, Stock = request.Stock };
        db.Products.Add(product);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/catalog/products/{product.Id}", ProductResponse.From(product));
    }

    public static async Task<Results<Ok<ProductResponse>, NotFound, Conflict<ProblemDetails>>> UpdateAsync(
        int id, ProductUpdateRequest request, CatalogDbContext db, CancellationToken cancellationToken)
    {
        if (await db.Products.FirstOrDefaultAsync(p => p.Id == id, cancellationToken) is not { } product)
        {
            return TypedResults.NotFound();
        }

        // The version the client read is the original value the update is checked against.
        db.Entry(product).Property(p => p.Version).OriginalValue = request.Version!.Value;
        product.Name = request.Name.Trim();
        product.Description = request.Description?.Trim() ?? "";
        product.Price = request.Price;
        product.Stock = request.Stock;
        product.Version = Guid.NewGuid();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return TypedResults.Conflict(new ProblemDetails
            {
                Title = "The product was changed by someone else.",
                Detail = "Read it again and apply your change to the current version.",
                Status = StatusCodes.Status409Conflict,
            });
        }

        return TypedResults.Ok(ProductResponse.From(product));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteAsync(int id, CatalogDbContext db, CancellationToken cancellationToken) =>
        await db.Products.Where(p => p.Id == id).ExecuteDeleteAsync(cancellationToken) > 0 ? TypedResults.NoContent() : TypedResults.NotFound();

    public static async Task<Ok<ProductPrice[]>> PricesAsync(PriceLookupRequest request, CatalogDbContext db, CancellationToken cancellationToken)
    {
        var ids = request.Ids.Distinct().ToArray();
        var prices = await db.Products.AsNoTracking()
            .Where(p => ids.Contains(p.Id))
            .Select(p => new ProductPrice(p.Id, p.Name, p.Price))
            .ToArrayAsync(cancellationToken);
        return TypedResults.Ok(prices);
    }
}
