using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;

namespace EdgeNet.Cli;

/// <summary>Loads a model by extension (.onnx imported and optimized, .enet read as converted) and builds session options.</summary>
internal static class ModelFiles
{
    public static Model Load(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"model file '{path}' does not exist");
        if (path.EndsWith(".enet", StringComparison.OrdinalIgnoreCase)) return Format.EnetReader.Load(path);
        var model = OnnxImporter.Load(path);
        Passes.PassPipeline.Optimize(model);
        return model;
    }

    public static SessionOptions Options(Arguments a)
    {
        var options = new SessionOptions { Threads = a.GetInt("--threads", 1, min: 1) };
        foreach (var (name, dims) in a.Pairs("--shape")) options.InputShapes[name] = Arguments.ParseDims(dims, "--shape");
        return options;
    }
}
