using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.ConformanceHost;

/// <summary>The surface the conformance suite's server scenarios expect (names from its scenarios).</summary>
internal static class Fixtures
{
    /// <summary>Set by the host: cancelled when shutdown starts (used by the drain fixture).</summary>
    public static CancellationToken Stopping { get; set; }

    private const string TinyPng =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    private const string TinyWav = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

    public static McpServerOptions Surface(ILoggerFactory logging)
    {
        var services = new ServiceCollection().AddSingleton(logging).BuildServiceProvider();
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "factory-conformance-fixtures", Version = "1.0.0" },
            ToolCollection = [],
            Capabilities = new ServerCapabilities
            {
                Logging = new LoggingCapability(),
                Prompts = new PromptsCapability(),
                Resources = new ResourcesCapability { Subscribe = true },
                Completions = new CompletionsCapability(),
            },
        };
        foreach (var method in typeof(FixtureTools).GetMethods(BindingFlags.Public | BindingFlags.Static))
            if (method.GetCustomAttribute<McpServerToolAttribute>() is not null)
                options.ToolCollection.Add(
                    McpServerTool.Create(method, options: new McpServerToolCreateOptions { Services = services })
                );
        Resources(options.Handlers);
        Prompts(options.Handlers);
        options.Handlers.SetLoggingLevelHandler = (_, _) => ValueTask.FromResult(new EmptyResult());
        options.Handlers.CompleteHandler = (_, _) =>
            ValueTask.FromResult(
                new CompleteResult
                {
                    Completion = new Completion
                    {
                        Values = ["testValue1"],
                        Total = 1,
                        HasMore = false,
                    },
                }
            );
        return options;
    }

    private static void Resources(McpServerHandlers handlers)
    {
        handlers.ListResourcesHandler = (_, _) =>
            ValueTask.FromResult(
                new ListResourcesResult
                {
                    Resources =
                    [
                        new Resource
                        {
                            Uri = "test://static-text",
                            Name = "static-text",
                            MimeType = "text/plain",
                        },
                        new Resource
                        {
                            Uri = "test://static-binary",
                            Name = "static-binary",
                            MimeType = "image/png",
                        },
                        new Resource
                        {
                            Uri = "test://watched-resource",
                            Name = "watched-resource",
                            MimeType = "text/plain",
                        },
                    ],
                }
            );
        handlers.ListResourceTemplatesHandler = (_, _) =>
            ValueTask.FromResult(
                new ListResourceTemplatesResult
                {
                    ResourceTemplates =
                    [
                        new ResourceTemplate
                        {
                            UriTemplate = "test://template/{id}/data",
                            Name = "template",
                            MimeType = "application/json",
                        },
                    ],
                }
            );
        handlers.ReadResourceHandler = (request, _) =>
        {
            var uri = request.Params!.Uri;
            ResourceContents contents = uri switch
            {
                "test://static-text" or "test://watched-resource" => new TextResourceContents
                {
                    Uri = uri,
                    MimeType = "text/plain",
                    Text = "This is the content of the static text resource.",
                },
                "test://static-binary" => BlobResourceContents.FromBytes(
                    Convert.FromBase64String(TinyPng),
                    uri,
                    "image/png"
                ),
                _ when uri.StartsWith("test://template/", StringComparison.Ordinal)
                        && uri.EndsWith("/data", StringComparison.Ordinal) => new TextResourceContents
                {
                    Uri = uri,
                    MimeType = "application/json",
                    Text = JsonSerializer.Serialize(
                        new
                        {
                            id = uri["test://template/".Length..^"/data".Length],
                            templateTest = true,
                            data = $"Data for ID: {uri["test://template/".Length..^"/data".Length]}",
                        }
                    ),
                },
                _ => throw new McpException($"Unknown resource {uri}"),
            };
            return ValueTask.FromResult(new ReadResourceResult { Contents = [contents] });
        };
        handlers.SubscribeToResourcesHandler = (_, _) => ValueTask.FromResult(new EmptyResult());
        handlers.UnsubscribeFromResourcesHandler = (_, _) => ValueTask.FromResult(new EmptyResult());
    }

    private static void Prompts(McpServerHandlers handlers)
    {
        handlers.ListPromptsHandler = (_, _) =>
            ValueTask.FromResult(
                new ListPromptsResult
                {
                    Prompts =
                    [
                        new Prompt { Name = "test_simple_prompt", Description = "A simple prompt without arguments" },
                        new Prompt
                        {
                            Name = "test_prompt_with_arguments",
                            Description = "A prompt with arguments",
                            Arguments =
                            [
                                new PromptArgument { Name = "arg1", Required = true },
                                new PromptArgument { Name = "arg2", Required = true },
                            ],
                        },
                        new Prompt
                        {
                            Name = "test_prompt_with_embedded_resource",
                            Description = "A prompt with an embedded resource",
                            Arguments = [new PromptArgument { Name = "resourceUri", Required = true }],
                        },
                        new Prompt { Name = "test_prompt_with_image", Description = "A prompt with an image" },
                    ],
                }
            );
        handlers.GetPromptHandler = (request, _) =>
        {
            var args = request.Params!.Arguments ?? new Dictionary<string, JsonElement>();
            string Arg(string name) => args.TryGetValue(name, out var v) ? v.GetString() ?? "" : "";
            ContentBlock content = request.Params.Name switch
            {
                "test_simple_prompt" => new TextContentBlock { Text = "This is a simple prompt for testing." },
                "test_prompt_with_arguments" => new TextContentBlock
                {
                    Text = $"Prompt with arguments: arg1='{Arg("arg1")}', arg2='{Arg("arg2")}'",
                },
                "test_prompt_with_embedded_resource" => new EmbeddedResourceBlock
                {
                    Resource = new TextResourceContents
                    {
                        Uri = Arg("resourceUri"),
                        MimeType = "text/plain",
                        Text = "Embedded resource content for testing.",
                    },
                },
                "test_prompt_with_image" => ImageContentBlock.FromBytes(Convert.FromBase64String(TinyPng), "image/png"),
                var other => throw new McpException($"Unknown prompt {other}"),
            };
            return ValueTask.FromResult(
                new GetPromptResult { Messages = [new PromptMessage { Role = Role.User, Content = content }] }
            );
        };
    }

    [McpServerToolType]
    private static class FixtureTools
    {
        [McpServerTool(Name = "test_simple_text"), Description("Returns simple text content.")]
        public static string SimpleText() => "This is a simple text response for testing.";

        [McpServerTool(Name = "test_image_content"), Description("Returns image content.")]
        public static ContentBlock Image() =>
            ImageContentBlock.FromBytes(Convert.FromBase64String(TinyPng), "image/png");

        [McpServerTool(Name = "test_audio_content"), Description("Returns audio content.")]
        public static ContentBlock Audio() =>
            AudioContentBlock.FromBytes(Convert.FromBase64String(TinyWav), "audio/wav");

        [McpServerTool(Name = "test_embedded_resource"), Description("Returns an embedded resource.")]
        public static ContentBlock Embedded() =>
            new EmbeddedResourceBlock
            {
                Resource = new TextResourceContents
                {
                    Uri = "test://embedded-resource",
                    MimeType = "text/plain",
                    Text = "This is an embedded resource content.",
                },
            };

        [McpServerTool(Name = "test_multiple_content_types"), Description("Returns text, image and a resource.")]
        public static IEnumerable<ContentBlock> Mixed() =>
            [
                new TextContentBlock { Text = "Multiple content types test:" },
                ImageContentBlock.FromBytes(Convert.FromBase64String(TinyPng), "image/png"),
                new EmbeddedResourceBlock
                {
                    Resource = new TextResourceContents
                    {
                        Uri = "test://mixed-content-resource",
                        MimeType = "application/json",
                        Text = "{\"test\":\"data\",\"value\":123}",
                    },
                },
            ];

        [McpServerTool(Name = "test_tool_with_logging"), Description("Sends log messages while it runs.")]
        public static async Task<string> Logging(McpServer server, CancellationToken ct)
        {
            foreach (var text in new[] { "Tool execution started", "Tool processing data", "Tool execution completed" })
                await server.SendNotificationAsync(
                    NotificationMethods.LoggingMessageNotification,
                    new LoggingMessageNotificationParams
                    {
                        Level = LoggingLevel.Info,
                        Data = JsonSerializer.SerializeToElement(text),
                    },
                    cancellationToken: ct
                );
            return "Tool with logging executed successfully";
        }

        [McpServerTool(Name = "test_error_handling"), Description("Always fails.")]
        public static CallToolResult Error() =>
            new()
            {
                IsError = true,
                Content = [new TextContentBlock { Text = "This tool intentionally returns an error for testing" }],
            };

        [McpServerTool(Name = "test_tool_with_progress"), Description("Reports progress three times.")]
        public static string Progress(IProgress<ProgressNotificationValue> progress)
        {
            for (var i = 0; i <= 100; i += 50)
                progress.Report(new ProgressNotificationValue { Progress = i, Total = 100 });
            return "Progress test completed";
        }

        [McpServerTool(Name = "test_sampling"), Description("Asks the client's model.")]
        public static async Task<string> Sampling(McpServer server, string prompt, CancellationToken ct)
        {
            var result = await server.SampleAsync(
                new CreateMessageRequestParams
                {
                    Messages =
                    [
                        new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] },
                    ],
                    MaxTokens = 100,
                },
                ct
            );
            return "LLM response: " + string.Join("", result.Content.OfType<TextContentBlock>().Select(t => t.Text));
        }

        [McpServerTool(Name = "test_elicitation"), Description("Asks the user for input.")]
        public static async Task<string> Elicitation(McpServer server, string message, CancellationToken ct)
        {
            var result = await server.ElicitAsync(
                new ElicitRequestParams
                {
                    Message = message,
                    RequestedSchema = new ElicitRequestParams.RequestSchema
                    {
                        Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition>
                        {
                            ["username"] = new ElicitRequestParams.StringSchema { Description = "Your username" },
                            ["email"] = new ElicitRequestParams.StringSchema { Description = "Your email" },
                        },
                        Required = ["username", "email"],
                    },
                },
                ct
            );
            return $"User response: action={result.Action}";
        }

        [
            McpServerTool(Name = "test_wait_for_shutdown"),
            Description("Reports progress, then returns only once the server has begun shutting down.")
        ]
        public static async Task<string> WaitForShutdown(IProgress<ProgressNotificationValue> progress)
        {
            progress.Report(
                new ProgressNotificationValue
                {
                    Progress = 1,
                    Total = 2,
                    Message = "waiting for shutdown",
                }
            );
            var stopping = new TaskCompletionSource();
            using (Stopping.Register(() => stopping.TrySetResult()))
                await stopping.Task;
            return "drained";
        }
    }
}
