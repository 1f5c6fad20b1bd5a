using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Pulls;
using FactoryMcp.Ledger.Triggers;
using YamlDotNet.Serialization;

namespace FactoryMcp.Ledger.Settings;

/// <summary>
/// The YAML files' types, known at compile time (no reflection: Native AOT). factory.yaml and lines.yaml are read
/// and written through it.
/// </summary>
[YamlStaticContext]
[YamlSerializable(typeof(FactorySettings))]
[YamlSerializable(typeof(FactorySettings.HttpSettings))]
[YamlSerializable(typeof(FactorySettings.HooksSettings))]
[YamlSerializable(typeof(FactorySettings.ContentSettings))]
[YamlSerializable(typeof(TriggerSettings))]
[YamlSerializable(typeof(PullRequestSettings))]
[YamlSerializable(typeof(PullRequestVerification))]
[YamlSerializable(typeof(LineSettings))]
[YamlSerializable(typeof(SandboxLimits))]
[YamlSerializable(typeof(ReportSettings))]
[YamlSerializable(typeof(CoverageSettings))]
[YamlSerializable(typeof(BenchmarkSettings))]
public partial class YamlContext : YamlDotNet.Serialization.StaticContext;
