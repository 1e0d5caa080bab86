using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Cli;

/// <summary>edgenet inspect MODEL [--plan] [--shape NAME=DIMS]...</summary>
internal static class InspectCommand
{
    public const string Usage = "edgenet inspect MODEL [--plan] [--shape NAME=DIMS]...";

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string> { "--plan" }, new HashSet<string> { "--shape", "--threads" });
        if (a.Positional.Count != 1) throw new UsageException("give exactly one MODEL");
        var model = ModelFiles.Load(a.Positional[0]);
        var g = model.Graph;
        Console.WriteLine($"model: {a.Positional[0]} (producer '{model.ProducerName}', opsets {string.Join(", ", model.Opsets.Select(o => (o.Key.Length == 0 ? "ai.onnx" : o.Key) + "=" + o.Value))})");
        Console.WriteLine("inputs:");
        foreach (var v in g.Inputs) Console.WriteLine($"  {v.Name}: {v.DataType}[{Dims(v)}]");
        Console.WriteLine("outputs:");
        foreach (var v in g.Outputs) Console.WriteLine($"  {v.Name}: {v.DataType}[{Dims(v)}]");
        long parameters = g.Initializers.Sum(v => (long)v.Constant!.ElementCount);
        Console.WriteLine($"parameters: {parameters} in {g.Initializers.Count()} tensors");
        Console.WriteLine($"nodes: {g.Nodes.Count}");
        foreach (var group in g.Nodes.GroupBy(n => n.OpType).OrderByDescending(x => x.Count()).ThenBy(x => x.Key, StringComparer.Ordinal))
            Console.WriteLine($"  {group.Key,-24} {group.Count()}");
        var session = new Session(model, ModelFiles.Options(a));
        Console.WriteLine($"planned for inputs {string.Join(", ", g.Inputs.Select((v, i) => v.Name + "=" + Shapes.Format(session.InputShape(i))))}:");
        Console.WriteLine($"  kernels: {session.Plan.Steps.Length}, MACs: {session.Plan.TotalMacs}, arena: {session.Plan.ArenaBytes} bytes");
        if (a.Flag("--plan")) Console.Write(session.Plan.Describe());
        return 0;
    }

    private static string Dims(Value v) => v.Shape is null ? "?" : string.Join("x", v.Shape.Select(d => d.ToString()));
}
