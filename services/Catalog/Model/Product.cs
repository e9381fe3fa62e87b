namespace MicroSecure.Catalog.Model;

/// <summary>A product in the catalogue. Prices are decided here and nowhere else.</summary>
public sealed class Product
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public string Description { get; set; } = "";

    public decimal Price { get; set; }

    public int Stock { get; set; }

    /// <summary>Changes with every update: an update naming an older version is refused (optimistic concurrency).</summary>
    public Guid Version { get; set; } = Guid.NewGuid();
}
