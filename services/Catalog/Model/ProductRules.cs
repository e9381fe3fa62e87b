namespace MicroSecure.Catalog.Model;

/// <summary>The limits every product and every query obeys, in one place for the schema, validation and paging.</summary>
public static class ProductRules
{
    public const int NameMaxLength = 100;
    public const int DescriptionMaxLength = 1000;
    public const double MinPrice = 0.01;
    public const double MaxPrice = 100_000;
    public const int MaxStock = 1_000_000;
    public const int MaxPageSize = 50;
    public const int DefaultPageSize = 20;
    public const int MaxSearchLength = 50;
    public const int MaxLookupIds = 50;
}
