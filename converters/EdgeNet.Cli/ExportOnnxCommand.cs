using EdgeNet.Onnx.Export;

namespace EdgeNet.Cli;

/// <summary>edgenet export-onnx MODEL.enet -o out.onnx: write a (fine-tuned) model as standard ONNX for ONNX Runtime and other tools.</summary>
internal static class ExportOnnxCommand
{
    public const string Usage = "edgenet export-onnx MODEL.enet -o out.onnx";

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string>(), new HashSet<string> { "--output" }, new Dictionary<string, string> { ["-o"] = "--output" });
        if (a.Positional.Count != 1) throw new UsageException("give exactly one MODEL.enet (or MODEL.onnx)");
        string output = a.Get("--output") ?? throw new UsageException("give the output file with -o out.onnx");
        var model = ModelFiles.Load(a.Positional[0]);
        OnnxExporter.Save(model, output);
        Console.WriteLine($"wrote {output} ({new FileInfo(output).Length} bytes, {model.Graph.Nodes.Count} EdgeNet nodes, opset {(model.Opsets.TryGetValue("", out int o) ? o : 0)})");
        return 0;
    }
}
