using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.RegularExpressions;
using MicroSecure.Orders.Data;
using MicroSecure.Orders.Model;
using MicroSecure.ServiceDefaults.Authorization;
using MicroSecure.ServiceDefaults.SecurityEvents;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Orders.Apis;

/// <summary>One line of a new order: which product and how many. Nothing else is the client's to say.</summary>
public sealed record OrderLineRequest(
    [property: Range(1, int.MaxValue)] int ProductId,
    [property: Range(OrderRules.MinQuantity, OrderRules.MaxQuantity)] int Quantity);

/// <summary>A new order. Price, owner, status and id come from the catalogue, the token and the server.</summary>
public sealed record CreateOrderRequest([property: Required, Length(1, OrderRules.MaxLines)] OrderLineRequest[] Lines);

public sealed record OrderLineResponse(int ProductId, string ProductName, decimal UnitPrice, int Quantity);

public sealed record OrderResponse(Guid Id, string Status, DateTime CreatedAt, decimal Total, IReadOnlyList<OrderLineResponse> Lines)
{
    // Stored as UTC; SQLite hands it back without a kind, so the kind is restated for the "Z" in the JSON.
    public static OrderResponse From(Order o) => new(o.Id, o.Status.ToString(), DateTime.SpecifyKind(o.CreatedAt, DateTimeKind.Utc), o.Total,
        [.. o.Lines.Select(l => new OrderLineResponse(l.ProductId, l.ProductName, l.UnitPrice, l.Quantity))]);
}

public sealed record OrderPage(IReadOnlyList<OrderResponse> Items, int Page, int PageSize, int TotalCount);

/// <summary>
/// Orders: people create, list, read and cancel their own (another person's order is 404, never 403, so ids
/// reveal nothing); administrators list everyone's. Prices come from the catalogue, never from the client.
/// </summary>
public static partial class OrdersApi
{
    public const string ReadPolicy = "orders-read";
    public const string WritePolicy = "orders-write";
    public const string AdminPolicy = "orders-admin";
    public const string ErasePolicy = "orders-erase";
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>What each policy the endpoints name requires: a person's scopes, and the admin role to see everyone's orders.</summary>
    public static IHostApplicationBuilder AddOrdersPolicies(this IHostApplicationBuilder builder) => builder
        .AddSecurityPolicy(ReadPolicy, policy => policy.RequireScope("orders:read"))
        .AddSecurityPolicy(WritePolicy, policy => policy.RequireScope("orders:write"))
        // Erasing one's history is asked for on its own (and consented to on its own): writing orders is not enough.
        .AddSecurityPolicy(ErasePolicy, policy => policy.RequireScope("orders:erase"))
        .AddSecurityPolicy(AdminPolicy, policy => policy.RequireScope("orders:read").RequireRole(ResourceOwnership.AdminRole));

    public static RouteGroupBuilder MapOrdersApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/orders").WithTags("Orders");
        api.MapPost("", CreateAsync).RequireAuthorization(WritePolicy);
        api.MapGet("", ListOwnAsync).RequireAuthorization(ReadPolicy);
        api.MapDelete("", EraseOwnAsync).RequireAuthorization(ErasePolicy);
        api.MapGet("/all", ListAllAsync).RequireAuthorization(AdminPolicy);
        api.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ReadPolicy);
        api.MapPost("/{id:guid}/cancel", CancelAsync).RequireAuthorization(WritePolicy);
        return api;
    }

    public static async Task<Results<Created<OrderResponse>, Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateOrderRequest request, ClaimsPrincipal user, OrdersDbContext db, CatalogClient catalog, TimeProvider time,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey, CancellationToken cancellationToken)
    {
        var owner = ResourceOwnership.SubjectOf(user)!;
        if (idempotencyKey is not null && !IdempotencyKeyFormat().IsMatch(idempotencyKey))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [IdempotencyKeyHeader] = [$"Use 1 to {OrderRules.IdempotencyKeyMaxLength} letters, digits, '-' or '_'."],
            });
        }

        if (idempotencyKey is not null && await FindByKeyAsync(db, owner, idempotencyKey, cancellationToken) is { } earlier)
        {
            return Replay(earlier, request);
        }

        if (LineErrors(request.Lines) is { Count: > 0 } lineErrors)
        {
            return TypedResults.ValidationProblem(lineErrors);
        }

        // The same product twice is one line with the quantities added; the sum still obeys the per-line limit.
        var errors = new Dictionary<string, string[]>();
        var wanted = request.Lines.GroupBy(l => l.ProductId).ToDictionary(g => g.Key, g => g.Sum(l => l.Quantity));
        foreach (var (productId, quantity) in wanted.Where(w => w.Value > OrderRules.MaxQuantity))
        {
            errors[$"lines[productId={productId}].quantity"] = [$"At most {OrderRules.MaxQuantity} of one product."];
        }

        IReadOnlyDictionary<int, CatalogPrice> prices;
        try
        {
            prices = await catalog.GetPricesAsync(wanted.Keys, cancellationToken);
        }
        catch (CatalogUnavailableException)
        {
            return TypedResults.Problem(title: "The catalogue is unavailable; try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        foreach (var unknown in wanted.Keys.Where(id => !prices.ContainsKey(id)))
        {
            errors[$"lines[productId={unknown}].productId"] = ["No such product."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var order = new Order
        {
            Id = Guid.NewGuid(),
            OwnerId = owner,
            CreatedAt = time.GetUtcNow().UtcDateTime,
            Status = OrderStatus.Placed,
            IdempotencyKey = idempotencyKey,
            Lines = [.. wanted.Select(w => new OrderLine { ProductId = w.Key, ProductName = prices[w.Key].Name, UnitPrice = prices[w.Key].Price, Quantity = w.Value })],
        };
        order.Total = order.Lines.Sum(l => l.UnitPrice * l.Quantity);
        return await SaveAsync(db, order, request, cancellationToken);
    }

    /// <summary>Each line's own limits (checked here: element-level attributes are not applied inside arrays).</summary>
    private static Dictionary<string, string[]> LineErrors(OrderLineRequest?[] lines)
    {
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i] is not { } line)
            {
                errors[$"lines[{i}]"] = ["A line is required."];
                continue;
            }

            if (line.ProductId < 1)
            {
                errors[$"lines[{i}].productId"] = ["Must be a positive product id."];
            }

            if (line.Quantity is < OrderRules.MinQuantity or > OrderRules.MaxQuantity)
            {
                errors[$"lines[{i}].quantity"] = [$"Must be between {OrderRules.MinQuantity} and {OrderRules.MaxQuantity}."];
            }
        }

        return errors;
    }

    /// <summary>Stores a new order; with an idempotency key, a concurrent retry that stored first is answered with its order.</summary>
    private static async Task<Results<Created<OrderResponse>, Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>> SaveAsync(
        OrdersDbContext db, Order order, CreateOrderRequest request, CancellationToken cancellationToken)
    {
        db.Orders.Add(order);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (order.IdempotencyKey is { } key)
        {
            db.ChangeTracker.Clear();
            if (await FindByKeyAsync(db, order.OwnerId, key, cancellationToken) is { } winner)
            {
                return Replay(winner, request);
            }

            throw;
        }

        return TypedResults.Created($"/api/orders/{order.Id}", OrderResponse.From(order));
    }

    public static async Task<Ok<OrderPage>> ListOwnAsync(
        ClaimsPrincipal user, OrdersDbContext db, CancellationToken cancellationToken,
        [Range(1, 10_000)] int page = 1, [Range(1, OrderRules.MaxPageSize)] int pageSize = 20)
    {
        var owner = ResourceOwnership.SubjectOf(user)!;
        return TypedResults.Ok(await PageAsync(db.Orders.Where(o => o.OwnerId == owner), page, pageSize, cancellationToken));
    }

    public static async Task<Ok<OrderPage>> ListAllAsync(
        OrdersDbContext db, CancellationToken cancellationToken,
        [Range(1, 10_000)] int page = 1, [Range(1, OrderRules.MaxPageSize)] int pageSize = 20) =>
        TypedResults.Ok(await PageAsync(db.Orders, page, pageSize, cancellationToken));

    /// <summary>Erases every order of the caller (a person leaving, say): theirs only, whatever their role.</summary>
    public static async Task<NoContent> EraseOwnAsync(ClaimsPrincipal user, OrdersDbContext db, CancellationToken cancellationToken)
    {
        var owner = ResourceOwnership.SubjectOf(user)!;
        // Tracked, so the lines (an owned collection) go with their order on every provider.
        var orders = await db.Orders.Where(o => o.OwnerId == owner).ToListAsync(cancellationToken);
        db.Orders.RemoveRange(orders);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<OrderResponse>, NotFound>> GetAsync(
        Guid id, HttpContext context, OrdersDbContext db, SecurityEventRecorder events, CancellationToken cancellationToken) =>
        await db.Orders.AsNoTracking().OwnedBy(context.User, o => o.OwnerId).FirstOrDefaultAsync(o => o.Id == id, cancellationToken) is { } order
            ? TypedResults.Ok(OrderResponse.From(order))
            : await NotFoundAsync(id, context, db, events, cancellationToken);

    public static async Task<Results<Ok<OrderResponse>, NotFound, Conflict<ProblemDetails>>> CancelAsync(
        Guid id, HttpContext context, OrdersDbContext db, SecurityEventRecorder events, CancellationToken cancellationToken)
    {
        var owner = ResourceOwnership.SubjectOf(context.User)!;
        // Only the owner cancels; for anyone else the order does not exist.
        if (await db.Orders.FirstOrDefaultAsync(o => o.Id == id && o.OwnerId == owner, cancellationToken) is not { } order)
        {
            return await NotFoundAsync(id, context, db, events, cancellationToken);
        }

        if (order.Status != OrderStatus.Placed)
        {
            return TypedResults.Conflict(new ProblemDetails { Title = "The order is already cancelled.", Status = StatusCodes.Status409Conflict });
        }

        order.Status = OrderStatus.Cancelled;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(OrderResponse.From(order));
    }

    /// <summary>
    /// The 404 for an order the caller may not touch. The answer is the same whether the order exists or not, so
    /// ids reveal nothing; when it does exist (someone else's), the attempt is an <c>AuthorizationDenied</c>
    /// event (<c>not_owner</c>): guessing or replaying other people's ids is how object-level attacks look.
    /// </summary>
    private static async Task<NotFound> NotFoundAsync(Guid id, HttpContext context, OrdersDbContext db, SecurityEventRecorder events, CancellationToken cancellationToken)
    {
        if (await db.Orders.AnyAsync(o => o.Id == id, cancellationToken))
        {
            events.Record(context, SecurityEventKinds.AuthorizationDenied, SecurityEventSeverities.Medium, reason: "not_owner");
        }

        return TypedResults.NotFound();
    }

    private static Task<Order?> FindByKeyAsync(OrdersDbContext db, string owner, string key, CancellationToken cancellationToken) =>
        db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.OwnerId == owner && o.IdempotencyKey == key, cancellationToken);

    // A retry gets the first answer again; the same key with a different request is the client's mistake.
    private static Results<Created<OrderResponse>, Ok<OrderResponse>, ValidationProblem, ProblemHttpResult> Replay(Order earlier, CreateOrderRequest request)
    {
        var asked = request.Lines.GroupBy(l => l.ProductId).ToDictionary(g => g.Key, g => g.Sum(l => l.Quantity));
        var same = asked.Count == earlier.Lines.Count && earlier.Lines.All(l => asked.TryGetValue(l.ProductId, out var q) && q == l.Quantity);
        return same
            ? TypedResults.Ok(OrderResponse.From(earlier))
            : TypedResults.Problem(title: "This Idempotency-Key was used for a different order.", statusCode: StatusCodes.Status422UnprocessableEntity);
    }

    private static async Task<OrderPage> PageAsync(IQueryable<Order> orders, int page, int pageSize, CancellationToken cancellationToken)
    {
        var total = await orders.CountAsync(cancellationToken);
        var items = await orders.AsNoTracking().OrderByDescending(o => o.CreatedAt).ThenBy(o => o.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return new OrderPage([.. items.Select(OrderResponse.From)], page, pageSize, total);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdempotencyKeyFormat();
}
