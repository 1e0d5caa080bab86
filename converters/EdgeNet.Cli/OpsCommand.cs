using EdgeNet.Ops;

namespace EdgeNet.Cli;

/// <summary>edgenet ops — lists every operator EdgeNet can run (domain-qualified when not the ONNX default domain).</summary>
internal static class OpsCommand
{
    public const string Usage = "edgenet ops";

    public static int Run(string[] args)
    {
        if (args.Length != 0) throw new UsageException("ops takes no arguments");
        var ops = OpRegistry.Supported.ToList();
        foreach (var op in ops) Console.WriteLine(op);
        Console.WriteLine($"{ops.Count} operators");
        return 0;
    }
}
