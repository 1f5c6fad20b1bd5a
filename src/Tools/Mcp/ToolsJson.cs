using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Funnel;
using FactoryMcp.Ledger.Verification;
using FactoryMcp.Tools.Attestation;
using FactoryMcp.Tools.Signals;
using ModelContextProtocol;

namespace FactoryMcp.Tools.Mcp;

/// <summary>
/// Source-generated metadata for the JSON the tools and their machinery write, in <see cref="Ledger.Json.Options"/>'
/// shape (snake_case, null members omitted): no reflection, so it holds under Native AOT.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull
)]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(EvidenceReceipt))]
[JsonSerializable(typeof(DeclarationResult))]
[JsonSerializable(typeof(VerdictReceipt))]
[JsonSerializable(typeof(FunnelReport))]
[JsonSerializable(typeof(CiFailureDetails))]
[JsonSerializable(typeof(DsseEnvelope))]
[JsonSerializable(typeof(Content.Brief))]
[JsonSerializable(typeof(Ledger.Lines.SandboxLimits))]
internal sealed partial class ToolsJson : JsonSerializerContext;

/// <summary>The serializer options every tool is registered with.</summary>
internal static class ToolOptions
{
    /// <summary>
    /// The options the SDK binds tool arguments with (<see cref="McpJsonUtilities.DefaultOptions"/>: its
    /// source-generated protocol types and primitives), with <see cref="ToolsJson"/> after them for what they lack
    /// (<c>string[]</c>): given to every tool at registration, so binding never falls back to reflection.
    /// </summary>
    public static JsonSerializerOptions Binding { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(McpJsonUtilities.DefaultOptions);
        options.TypeInfoResolverChain.Add(ToolsJson.Default);
        options.MakeReadOnly();
        return options;
    }
}

/// <summary>Source-generated metadata for JSON written with default options (member names as declared).</summary>
[JsonSerializable(typeof(Gate.Coverage.CoverageTable.Stored))]
internal sealed partial class PlainJson : JsonSerializerContext;
