namespace MicroSecure.Orders.Model;

/// <summary>An order belongs to exactly one owner; every read is filtered by it.</summary>
public sealed class Order
{
    public Guid Id { get; set; }

    /// <summary>The subject (<c>sub</c>) of the user who placed the order; set from the token, never from the body.</summary>
    public required string OwnerId { get; set; }

    /// <summary>When it was placed (UTC). A DateTime rather than an offset: SQLite cannot order by offsets.</summary>
    public DateTime CreatedAt { get; set; }

    public OrderStatus Status { get; set; }

    /// <summary>The client's <c>Idempotency-Key</c>: a retried create returns this order instead of placing another.</summary>
    public string? IdempotencyKey { get; set; }

    public List<OrderLine> Lines { get; set; } = [];

    /// <summary>Sum of the lines, at the catalogue's prices when the order was placed.</summary>
    public decimal Total { get; set; }
}

/// <summary>One product in an order, with the name and price the catalogue gave at the time.</summary>
public sealed class OrderLine
{
    public int ProductId { get; set; }

    public required string ProductName { get; set; }

    public decimal UnitPrice { get; set; }

    public int Quantity { get; set; }
}

public enum OrderStatus
{
    Placed,
    Cancelled,
}

/// <summary>The limits on orders, in one place for the schema, validation and paging.</summary>
public static class OrderRules
{
    public const int MaxLines = 50;
    public const int MinQuantity = 1;
    public const int MaxQuantity = 100;
    public const int MaxPageSize = 50;
    public const int IdempotencyKeyMaxLength = 64;
}
