using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Validation;

namespace FactoryMcp.Tools.Gate;

/// <summary>A declaration decided at once, or the validation job that will decide it.</summary>
public sealed record DeclarationStart(DeclarationResult? Decided, ValidationJobRow? Job);
