namespace MicroSecure.Orders.Model;

/// <summary>An order belongs to exactly one owner; every read is filtered by it.</summary>
public sealed class Order
{
    public Guid Id { get; set; }

    /// <summary>The subject (<c>sub</c>) of the user who placed the order; set from the token, never from the body.</summary>
    public required string OwnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public OrderStatus Status { get; set; }
}

public enum OrderStatus
{
    Placed,
    Cancelled,
}
