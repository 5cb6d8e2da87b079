namespace Rdev.Api.ClaudeConfig;

/// <summary>
/// One kind of Claude Code configuration and where its items live in the workspace (SPEC section 7):
/// <c>.claude/commands/&lt;name&gt;.md</c>, <c>.claude/agents/&lt;name&gt;.md</c> and
/// <c>.claude/skills/&lt;name&gt;/SKILL.md</c>, where the folder is the item.
/// </summary>
/// <param name="Folder">Relative to the workspace, '/'-separated, no leading or trailing '/'.</param>
/// <param name="ItemsAreFolders">Each item is a folder holding <see cref="SkillFile"/> (skills) rather than a Markdown file.</param>
public sealed record ConfigType(string Name, string Folder, bool ItemsAreFolders)
{
    public const string SkillFile = "SKILL.md";
    public const string Extension = ".md";

    public static readonly ConfigType Commands = new("commands", ".claude/commands", ItemsAreFolders: false);
    public static readonly ConfigType Agents = new("agents", ".claude/agents", ItemsAreFolders: false);
    public static readonly ConfigType Skills = new("skills", ".claude/skills", ItemsAreFolders: true);

    public static readonly IReadOnlyList<ConfigType> All = [Commands, Agents, Skills];

    public static ConfigType? Find(string name) => All.FirstOrDefault(type => type.Name == name);

    /// <summary>The file of item <paramref name="name"/>, which must be a valid <see cref="ItemNames">item name</see>.</summary>
    public ItemLocation Locate(string name) => ItemsAreFolders
        ? new ItemLocation($"{Folder}/{name}", SkillFile, OwnsFolder: true)
        : new ItemLocation(Folder, name + Extension, OwnsFolder: false);
}

/// <summary>An item's file: <paramref name="FileName"/> in <paramref name="Folder"/> (relative to the workspace).</summary>
/// <param name="OwnsFolder">Deleting the item removes <paramref name="Folder"/> with everything in it (a skill).</param>
public sealed record ItemLocation(string Folder, string FileName, bool OwnsFolder)
{
    public string Path => $"{Folder}/{FileName}";
}
