using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;

namespace EdgeNet.Cli;

/// <summary>edgenet run MODEL [--input NAME=FILE]... [--output-dir DIR] [--threads N] [--shape NAME=DIMS]...</summary>
internal static class RunCommand
{
    public const string Usage = "edgenet run MODEL [--input NAME=FILE]... [--output-dir DIR] [--threads N] [--shape NAME=DIMS]...";

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string>(), new HashSet<string> { "--input", "--output-dir", "--threads", "--shape" });
        if (a.Positional.Count != 1) throw new UsageException("give exactly one MODEL");
        var model = ModelFiles.Load(a.Positional[0]);
        var options = ModelFiles.Options(a);
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, file) in a.Pairs("--input"))
        {
            if (!File.Exists(file)) throw new UsageException($"input file '{file}' does not exist");
            feeds[name] = TensorFiles.Read(file);
        }
        foreach (var input in model.Graph.Inputs)
            if (!feeds.ContainsKey(input.Name)) throw new InputMismatchException($"Input '{input.Name}' was not given (--input {input.Name}=FILE)");
        foreach (var (name, t) in feeds)
        {
            if (!model.Graph.Inputs.Any(v => v.Name == name)) throw new InputMismatchException($"The model has no input named '{name}'");
            options.InputShapes[name] = t.Dims;
        }
        var session = new Session(model, options);
        var outputs = session.Run(feeds);
        string dir = a.Get("--output-dir") ?? ".";
        Directory.CreateDirectory(dir);
        for (int i = 0; i < outputs.Length; i++)
        {
            string name = model.Graph.Outputs[i].Name;
            string path = Path.Combine(dir, $"output_{i}.pb");
            TensorFiles.WritePb(path, name, outputs[i]);
            Console.WriteLine($"{name}: {outputs[i].DataType}{Shapes.Format(outputs[i].Dims)} -> {path}");
        }
        return 0;
    }
}
