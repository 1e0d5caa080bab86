using EdgeNet.Onnx;

namespace EdgeNet.Cli;

/// <summary>edgenet convert MODEL.onnx -o MODEL.enet: import, run the graph passes once, write the .enet file.</summary>
internal static class ConvertCommand
{
    public const string Usage = "edgenet convert MODEL.onnx -o MODEL.enet";

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string>(), new HashSet<string> { "--output" }, new Dictionary<string, string> { ["-o"] = "--output" });
        if (a.Positional.Count != 1) throw new UsageException("give exactly one MODEL.onnx");
        string output = a.Get("--output") ?? throw new UsageException("give the output file with -o MODEL.enet");
        string input = a.Positional[0];
        if (!File.Exists(input)) throw new UsageException($"model file '{input}' does not exist");
        var model = OnnxImporter.Load(input);
        int before = model.Graph.Nodes.Count;
        var report = Passes.PassPipeline.Optimize(model);
        Format.EnetWriter.Write(model, output);
        Console.WriteLine($"{input}: {before} nodes -> {model.Graph.Nodes.Count} after passes ({report})");
        Console.WriteLine($"wrote {output} ({new FileInfo(output).Length} bytes)");
        return 0;
    }
}
