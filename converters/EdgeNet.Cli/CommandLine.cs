namespace EdgeNet.Cli;

/// <summary>Entry point of the edgenet tool: dispatches to one class per command.</summary>
internal static class CommandLine
{
    private static readonly string[] s_usage =
    [
        "usage:",
        "  " + RunCommand.Usage,
        "  " + TestDataCommand.Usage,
        "  " + BenchCommand.Usage,
        "  " + InspectCommand.Usage,
        "  " + ConvertCommand.Usage,
        "  " + OpsCommand.Usage,
        "  " + ExportOnnxCommand.Usage,
        "  " + FinetuneCommand.Usage,
        "  " + EvaluateCommand.Usage,
    ];

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            foreach (var l in s_usage) Console.Error.WriteLine(l);
            return args.Length == 0 ? 2 : 0;
        }
        string[] rest = args[1..];
        try
        {
            return args[0] switch
            {
                "run" => RunCommand.Run(rest),
                "test-data" => TestDataCommand.Run(rest),
                "bench" => BenchCommand.Run(rest),
                "inspect" => InspectCommand.Run(rest),
                "convert" => ConvertCommand.Run(rest),
                "ops" => OpsCommand.Run(rest),
                "export-onnx" => ExportOnnxCommand.Run(rest),
                "finetune" => FinetuneCommand.Run(rest),
                "evaluate" => EvaluateCommand.Run(rest),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            foreach (var l in s_usage) Console.Error.WriteLine(l);
            return 2;
        }
        catch (EdgeNetException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
