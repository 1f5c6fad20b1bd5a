namespace FactoryMcp.Tools.Gate;

/// <summary>What a Reproduction run proves: the bug is there (Fail), gone (Pass), or nothing either way.</summary>
public enum ReproductionVerdict
{
    Pass,
    Fail,
    Inconclusive,
}
