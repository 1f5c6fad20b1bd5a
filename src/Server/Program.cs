using FactoryMcp.Server.Cli;

return await FactoryCli.RunAsync(args);
