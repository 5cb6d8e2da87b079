using System.Text.Json.Nodes;

namespace Rdev.Api.ClaudeConfig;

/// <summary>POST body: a new item.</summary>
public sealed record CreateConfigItemRequest(string? Name, string? Content);

/// <summary>PUT body: the item's new content, whole.</summary>
public sealed record UpdateConfigItemRequest(string? Content);

/// <summary>One item in a list; <see cref="Description"/> is the front matter's <c>description</c>, when it has one.</summary>
public sealed record ConfigItemSummary(string Name, string? Description, long Size, DateTimeOffset ModifiedAt);

public sealed record ConfigItemPage(IReadOnlyList<ConfigItemSummary> Items, string? NextCursor);

/// <summary>
/// One item. <see cref="FrontMatter"/> is the YAML front matter as JSON (null when the file has none or it does not
/// parse); <see cref="Size"/> counts bytes of the file. The response's <c>ETag</c> identifies exactly these bytes.
/// </summary>
public sealed record ConfigItem(string Name, string Type, string Content, JsonObject? FrontMatter, long Size, DateTimeOffset ModifiedAt);
