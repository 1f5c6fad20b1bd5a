using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FactoryMcp.Ledger.Lines;

/// <summary>
/// Edits lines.yaml for `factory line set` (the file is the one writer): each KEY=VALUE is read as YAML,
/// the whole file is validated before anything is written, and the write is atomic. Comments are not kept.
/// </summary>
public static class LineFile
{
    public static LineCatalog Set(string path, string line, IReadOnlyList<string> assignments)
    {
        if (!LineCatalog.IsValidName(line))
            throw new LedgerException($"Line name '{line}' must be lower-case letters, digits, '-' or '_'.");
        if (assignments.Count == 0)
            throw new LedgerException(
                "Give at least one KEY=VALUE, for example `max_attempts=2` or `verifiers=[qa, secops]`."
            );
        var stream = new YamlStream();
        if (File.Exists(path))
        {
            try
            {
                stream.Load(new StringReader(File.ReadAllText(path)));
            }
            catch (YamlException e)
            {
                throw new LedgerException($"{path} is not valid YAML (line {e.Start.Line}); fix it by hand first.");
            }
        }
        if (stream.Documents.Count == 0)
            stream.Documents.Add(new YamlDocument(new YamlMappingNode()));
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new LedgerException($"{path} must be a mapping of line names to settings.");
        var key = new YamlScalarNode(line);
        if (!root.Children.TryGetValue(key, out var node) || node is not YamlMappingNode settings)
        {
            settings = new YamlMappingNode();
            root.Children[key] = settings;
        }
        foreach (var assignment in assignments)
        {
            var eq = assignment.IndexOf('=');
            if (eq <= 0)
                throw new LedgerException($"'{assignment}' is not KEY=VALUE.");
            var value = new YamlStream();
            try
            {
                value.Load(new StringReader("v: " + assignment[(eq + 1)..]));
            }
            catch (YamlException)
            {
                throw new LedgerException($"The value of '{assignment}' is not valid YAML.");
            }
            settings.Children[new YamlScalarNode(assignment[..eq].Trim())] = (
                (YamlMappingNode)value.Documents[0].RootNode
            ).Children[new YamlScalarNode("v")];
        }
        var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        var yaml = writer.ToString().Replace("...\n", "").TrimEnd() + "\n";
        var catalog = LineCatalog.Parse(yaml, path);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(temp, yaml);
        File.Move(temp, path, overwrite: true);
        return catalog;
    }
}
