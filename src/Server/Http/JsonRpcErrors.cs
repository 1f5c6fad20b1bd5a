using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Server.Http;

/// <summary>Plain HTTP refusals written as JSON-RPC errors, so MCP clients show the message.</summary>
internal static class JsonRpcErrors
{
    public static async Task WriteAsync(
        HttpContext context,
        int status,
        string message,
        int code = -32000,
        RequestId id = default,
        JsonNode? data = null
    )
    {
        if (context.Response.HasStarted)
            return;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var error = new JsonRpcError
        {
            Id = id,
            Error = new JsonRpcErrorDetail
            {
                Code = code,
                Message = message,
                Data = data,
            },
        };
        await JsonSerializer.SerializeAsync(
            context.Response.Body,
            error,
            McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcError)),
            context.RequestAborted
        );
    }
}
