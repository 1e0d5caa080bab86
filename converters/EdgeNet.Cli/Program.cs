return EdgeNet.Cli.CommandLine.Run(args);
