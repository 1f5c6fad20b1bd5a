using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace FactoryMcp.Server.Http;

/// <summary>
/// Data-protection keys (the dashboard cookie's and the antiforgery tokens') kept in this process's memory:
/// nothing is written outside the ledger's folder (ASP.NET Core's default is ~/.aspnet), and a restart logs
/// everyone out. ASP.NET Core's own in-memory repository is internal, hence these few lines.
/// </summary>
internal sealed class InMemoryKeyRepository : IXmlRepository
{
    private readonly List<XElement> elements = [];
    private readonly Lock gate = new();

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        lock (gate)
            return elements.Select(e => new XElement(e)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        lock (gate)
            elements.Add(new XElement(element));
    }
}
