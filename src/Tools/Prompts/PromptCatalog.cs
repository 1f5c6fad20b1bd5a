using FactoryMcp.Ledger.Packets;
using YamlDotNet.RepresentationModel;

namespace FactoryMcp.Tools.Prompts;

/// <summary>
/// The Markdown prompts of <c>prompts/</c>, embedded in this assembly. Each starts with front matter
/// naming its description and the roles that may see it.
/// </summary>
public static class PromptCatalog
{
    public sealed record PromptFile(
        string Name,
        string Description,
        IReadOnlyList<string> Roles,
        string? VerifierRole,
        string Body
    );

    private static readonly Lazy<IReadOnlyList<PromptFile>> Files = new(Load);

    public static IReadOnlyList<PromptFile> All => Files.Value;

    /// <summary>The prompts a caller may read: its role's, and for a verifier only its own mandate.</summary>
    public static IEnumerable<PromptFile> ForRole(string role, string? verifierRole = null) =>
        All.Where(p => p.Roles.Contains(role) && (p.VerifierRole is null || p.VerifierRole == verifierRole));

    public static PromptFile? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    private static IReadOnlyList<PromptFile> Load()
    {
        var assembly = typeof(PromptCatalog).Assembly;
        var list = new List<PromptFile>();
        foreach (
            var resource in assembly
                .GetManifestResourceNames()
                .Where(n => n.StartsWith("Prompts.", StringComparison.Ordinal))
                .Order()
        )
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            list.Add(Parse(resource["Prompts.".Length..^".md".Length], reader.ReadToEnd()));
        }
        return list;
    }

    public static PromptFile Parse(string name, string text)
    {
        var front =
            FrontMatter.Split(text.Replace("\r\n", "\n"))
            ?? throw new InvalidDataException(
                $"Prompt {name} has no front matter: it must start with a --- line and close it with another."
            );
        var yaml = new YamlStream();
        yaml.Load(new StringReader(front.Yaml));
        var map = (YamlMappingNode)yaml.Documents[0].RootNode;
        var description = ((YamlScalarNode)map.Children[new YamlScalarNode("description")]).Value ?? "";
        var roles = ((YamlSequenceNode)map.Children[new YamlScalarNode("roles")])
            .Children.Select(c => ((YamlScalarNode)c).Value!)
            .ToList();
        var verifierRole = map.Children.TryGetValue(new YamlScalarNode("verifier_role"), out var vr)
            ? ((YamlScalarNode)vr).Value
            : null;
        return new PromptFile(name, description, roles, verifierRole, front.Body.TrimStart('\n'));
    }

    /// <summary>Fills {{name}} placeholders.</summary>
    public static string Render(PromptFile prompt, IReadOnlyDictionary<string, string> values)
    {
        var body = prompt.Body;
        foreach (var (key, value) in values)
            body = body.Replace("{{" + key + "}}", value, StringComparison.Ordinal);
        return body;
    }
}
