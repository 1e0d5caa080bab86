using System.Diagnostics;
using System.Globalization;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--conv</c>: one Conv node (bias, Relu6) per shape of MobileNetV2's and DS-CNN's costly layers, run through a
/// Session on one thread; prints the kernel chosen, the minimum and median µs of 300 runs, and GMAC/s (of the minimum).
/// With <c>--cold</c> the caches are flushed between runs (weights streamed from memory, as inside a model).
/// </summary>
public static class ConvBench
{
    public static void Run(string[] args)
    {
        // C, M, H, W, KH, KW, stride, pad (top/left), pad (bottom/right), group
        (string Name, int C, int M, int H, int W, int KH, int KW, int S, int PT, int PL, int PB, int PR, int G)[] cases =
        [
            ("mnv2 stem", 3, 32, 224, 224, 3, 3, 2, 1, 1, 1, 1, 1),
            ("mnv2 f1 pw 32>16", 32, 16, 112, 112, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f2 expand 16>96", 16, 96, 112, 112, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f2 project 96>24", 96, 24, 56, 56, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f3 expand 24>144", 24, 144, 56, 56, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f5 expand 32>192", 32, 192, 28, 28, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f5 project 192>32", 192, 32, 28, 28, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f8 expand 64>384", 64, 384, 14, 14, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f8 project 384>64", 384, 64, 14, 14, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f12 project 576>96", 576, 96, 14, 14, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f14 expand 96>576", 96, 576, 14, 14, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f15 expand 160>960", 160, 960, 7, 7, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f15 project 960>160", 960, 160, 7, 7, 1, 1, 1, 0, 0, 0, 0, 1),
            ("mnv2 f18 320>1280", 320, 1280, 7, 7, 1, 1, 1, 0, 0, 0, 0, 1),
            ("ds_cnn first 10x4/2", 1, 64, 49, 10, 10, 4, 2, 5, 1, 5, 1, 1),
            ("ds_cnn pw 64>64", 64, 64, 25, 5, 1, 1, 1, 0, 0, 0, 0, 1),
            ("ds_cnn dw 3x3", 64, 64, 25, 5, 3, 3, 1, 1, 1, 1, 1, 64),
            ("oww emb 24>24 1x3", 24, 24, 74, 32, 1, 3, 1, 0, 1, 0, 1, 1),
            ("oww emb 24>24 3x1", 24, 24, 74, 32, 3, 1, 1, 0, 0, 0, 0, 1),
            ("oww emb 48>48 3x1", 48, 48, 36, 16, 3, 1, 1, 0, 0, 0, 0, 1),
            ("oww emb 72>72 1x3", 72, 72, 32, 8, 1, 3, 1, 0, 1, 0, 1, 1),
        ];
        // --cold: 8 MiB written between runs, so weights, input and output come from L3 or memory as inside a model
        bool cold = args.Contains("--cold");
        args = args.Where(a => a != "--cold").ToArray();
        var evict = cold ? new float[2 << 20] : [];
        var filter = args.Length > 0 ? args[0] : null;
        foreach (var c in cases)
        {
            if (filter is not null && !c.Name.Contains(filter, StringComparison.Ordinal)) continue;
            var session = new Session(Model(c.C, c.M, c.H, c.W, c.KH, c.KW, c.S, c.PT, c.PL, c.PB, c.PR, c.G), new SessionOptions { Threads = 1 });
            var x = session.Input<float>(0);
            var rng = new Random(1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
            var step = session.Plan.Steps.Single();
            var times = new double[300];
            for (int r = -100; r < times.Length; r++)
            {
                if (cold) evict.AsSpan().Fill(r);
                long t0 = Stopwatch.GetTimestamp();
                session.Run();
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
            Array.Sort(times);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Name,-24} {step.Kernel.GetType().Name,-22} min {times[0],8:F1} µs  median {times[150],8:F1} µs  {step.Macs / times[0] / 1e3,6:F1} GMAC/s"));
        }
    }

    private static Model Model(int c, int m, int h, int w, int kh, int kw, int s, int pt, int pl, int pb, int pr, int group)
    {
        var g = new IR.Graph { Name = "conv" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = [Dim.Known(1), Dim.Known(c), Dim.Known(h), Dim.Known(w)];
        g.Inputs.Add(x);
        var rng = new Random(2);
        var weights = new float[m * (c / group) * kh * kw];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)rng.NextDouble() - 0.5f;
        var bias = new float[m];
        for (int i = 0; i < m; i++) bias[i] = (float)rng.NextDouble() - 0.5f;
        var node = new Node { OpType = "Conv", Name = "n", OpsetVersion = 13 };
        node.Inputs.Add(x);
        node.Inputs.Add(g.AddConstant("w", Tensor.FromArray([m, c / group, kh, kw], weights)));
        node.Inputs.Add(g.AddConstant("b", Tensor.FromArray([m], bias)));
        node.SetAttribute(IR.Attribute.Of("strides", new long[] { s, s }));
        node.SetAttribute(IR.Attribute.Of("pads", new long[] { pt, pl, pb, pr }));
        node.SetAttribute(IR.Attribute.Of("group", (long)group));
        new FusedActivation(ActivationKind.Clip, 0, 6).WriteTo(node);
        return SingleNodeModel(g, node);
    }

    /// <summary>The graph of one node (already given its inputs) with its output "y", as an opset-13 model.</summary>
    internal static Model SingleNodeModel(IR.Graph g, Node node)
    {
        var y = g.GetOrAddValue("y");
        node.Outputs.Add(y);
        y.Producer = node;
        g.Nodes.Add(node);
        g.Outputs.Add(y);
        var model = new Model { Graph = g };
        model.Opsets[""] = 13;
        return model;
    }
}
