using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Passes;
using EdgeNet.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;
using Tensor = EdgeNet.IR.Tensor;

namespace EdgeNet.Tests.RealModels;

/// <summary>
/// The QDQ models of scripts/make-qdq-models.py (uint8 activations, per-channel int8 weights, calibrated on seeded
/// inputs) run by EdgeNet with the QDQ folding passes — integer ops end to end — against ONNX Runtime on the same
/// file: at least 99 % of the output elements within one output quantization step (the scale of the
/// QuantizeLinear → DequantizeLinear on the logits). ORT runs the graph both literally (optimizations off: every
/// QuantizeLinear / DequantizeLinear executed in float) and with its own QDQ fusion (optimizations on). On an x86 CPU
/// without VNNI, ORT's fused uint8×int8 kernels multiply with vpmaddubsw, which saturates each pair of products at
/// int16 (ONNX Runtime's quantization guide recommends reduce_range on such CPUs for this reason), so there the fused
/// ORT is not held to one step: EdgeNet (exact int32 sums on every ISA) must then be at least as close to the
/// literal graph as ORT's fused kernels are.
/// </summary>
public class QdqParityTests(ITestOutputHelper output)
{
    /// <summary>Name, input shape, calls per allocation-check batch.</summary>
    private static readonly (string Name, int[] Dims, int Batch)[] s_models =
    [
        ("mobilenet_v2", [1, 3, 224, 224], 2),
        ("resnet18", [1, 3, 224, 224], 1),
        ("ds_cnn", [1, 1, 49, 10], 20),
        ("lstm_kws", [1, 49, 40], 20),
    ];

    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var (name, _, _) in s_models) data.Add(name);
            return data;
        }
    }

    private static string PathOf(string name) => RepoPaths.Model($"generated-qdq/{name}/model.onnx");
    private static int[] DimsOf(string name) => s_models.First(m => m.Name == name).Dims;

    private static Model Folded(string name)
    {
        var model = OnnxImporter.Load(PathOf(name));
        PassPipeline.Optimize(model);
        return model;
    }

    /// <summary>The scale of the DequantizeLinear that makes the graph output (one output quantization step).</summary>
    private static float OutputStep(string name)
    {
        var g = OnnxImporter.Load(PathOf(name)).Graph;
        var dq = g.Outputs[0].Producer!;
        Assert.Equal("DequantizeLinear", dq.OpType);
        return dq.Inputs[1]!.Constant!.AsSpan<float>()[0];
    }

    private static readonly Dictionary<string, InferenceSession> s_ortOptimized = new(StringComparer.Ordinal);

    private static Tensor OrtOptimized(string path, Tensor input)
    {
        InferenceSession session;
        lock (s_ortOptimized)
            if (!s_ortOptimized.TryGetValue(path, out session!))
                s_ortOptimized[path] = session = new InferenceSession(path, new Microsoft.ML.OnnxRuntime.SessionOptions
                {
                    IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                });
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input.ToFloatArray(), input.Dims))]);
        var r = results.First().AsTensor<float>();
        return Tensor.FromArray(r.Dimensions.ToArray(), r.ToArray());
    }

    /// <summary>(elements within one step, total, largest difference in steps).</summary>
    private static (int Within, int Total, double WorstSteps) Compare(Tensor expected, Tensor actual, float step)
    {
        Assert.Equal(expected.Dims, actual.Dims);
        var e = expected.ToFloatArray();
        var a = actual.ToFloatArray();
        int within = 0;
        double worst = 0;
        for (int i = 0; i < e.Length; i++)
        {
            double steps = Math.Abs(a[i] - e[i]) / step;
            if (steps <= 1.001) within++;
            worst = Math.Max(worst, steps);
        }
        return (within, e.Length, worst);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FoldedModelMatchesOnnxRuntimeWithinOneStep(string name)
    {
        var session = new Session(Folded(name));
        float step = OutputStep(name);
        int within = 0, total = 0, withinOpt = 0, totalOpt = 0, exact = 0, ortOptWithinLiteral = 0;
        double worst = 0, worstOpt = 0;
        for (int seed = 1; seed <= 3; seed++)
        {
            var x = Parity.Random(DimsOf(name), seed, -2f, 2f);
            var feeds = new Dictionary<string, Tensor> { ["input"] = x };
            var actual = session.Run(feeds)[0];
            var literal = OrtOracle.Run(PathOf(name), feeds)[0];
            var (w, t, s) = Compare(literal, actual, step);
            within += w; total += t; worst = Math.Max(worst, s);
            var ea = actual.ToFloatArray();
            var el = literal.ToFloatArray();
            for (int i = 0; i < ea.Length; i++) if (ea[i] == el[i]) exact++;
            var optimized = OrtOptimized(PathOf(name), x);
            var (wo, to, so) = Compare(optimized, actual, step);
            withinOpt += wo; totalOpt += to; worstOpt = Math.Max(worstOpt, so);
            ortOptWithinLiteral += Compare(literal, optimized, step).Within;
        }
        output.WriteLine($"{name}: vs ORT literal QDQ: {within}/{total} = {100.0 * within / total:F2}% within 1 step ({100.0 * exact / total:F2}% identical), worst {worst:F1} steps; " +
            $"vs ORT optimized: {withinOpt}/{totalOpt} = {100.0 * withinOpt / totalOpt:F2}%, worst {worstOpt:F1} steps (step {step:G4})");
        output.WriteLine($"{name}: ORT optimized vs ORT literal: {ortOptWithinLiteral}/{total} within 1 step");
        Assert.True(within >= 0.99 * total, $"{name}: only {within} of {total} elements within one step of ORT (literal QDQ); worst {worst:F1} steps");
        if (OrtFusedInt8IsExact)
            Assert.True(withinOpt >= 0.99 * totalOpt, $"{name}: only {withinOpt} of {totalOpt} elements within one step of ORT (optimized); worst {worstOpt:F1} steps");
        else
            Assert.True(within >= ortOptWithinLiteral, $"{name}: EdgeNet has {within} of {total} elements within one step of the literal QDQ graph, ORT's fused kernels {ortOptWithinLiteral}");
    }

    /// <summary>False on x86 without VNNI, where ORT's fused uint8×int8 products saturate at int16 (see the class summary).</summary>
    private static bool OrtFusedInt8IsExact =>
        !System.Runtime.Intrinsics.X86.X86Base.IsSupported || System.Runtime.Intrinsics.X86.AvxVnni.IsSupported || System.Runtime.Intrinsics.X86.Avx10v1.IsSupported;

    [Theory]
    [InlineData("mobilenet_v2")]
    [InlineData("resnet18")]
    [InlineData("ds_cnn")]
    public void ConvNetsRunAsIntegerOpsEndToEnd(string name)
    {
        var g = Folded(name).Graph;
        var floatOps = g.Nodes.Where(n => n.Domain.Length == 0 && n.OpType is "Conv" or "Gemm" or "MatMul" or "Add" or "GlobalAveragePool" or "Relu" or "Clip").ToList();
        Assert.True(floatOps.Count == 0, $"{name}: float ops left: {string.Join(", ", floatOps.Take(5))}");
        // one QuantizeLinear for the float input, one DequantizeLinear for the float logits: no float round trip in between
        Assert.Equal(1, g.Nodes.Count(n => n.OpType == "QuantizeLinear"));
        Assert.Equal(1, g.Nodes.Count(n => n.OpType == "DequantizeLinear"));
    }

    [Theory]
    [InlineData("ds_cnn")]
    [InlineData("mobilenet_v2")]
    [InlineData("resnet18")]
    public void EveryIsaPathGivesTheSameOutput(string name)
    {
        // integer kernels and the contract's requantization are bit-exact across paths, so the whole model is too
        var feeds = new Dictionary<string, Tensor> { ["input"] = Parity.Random(DimsOf(name), 3, -2f, 2f) };
        var expected = new Session(Folded(name), new EdgeNet.Execution.SessionOptions { Isa = EdgeNet.Kernels.Isa.Scalar }).Run(feeds)[0].ToFloatArray();
        foreach (var isa in EdgeNet.Kernels.IsaSupport.Available)
        {
            var actual = new Session(Folded(name), new EdgeNet.Execution.SessionOptions { Isa = isa }).Run(feeds)[0].ToFloatArray();
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{name}: {isa} differs from the scalar path");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ConvertedEnetFileGivesTheSameBytes(string name)
    {
        var folded = Folded(name);
        string file = Path.Combine(Path.GetTempPath(), $"edgenet-qdq-{name}-{Guid.NewGuid():N}.enet");
        try
        {
            EdgeNet.Format.EnetWriter.Write(folded, file);
            var feeds = new Dictionary<string, Tensor> { ["input"] = Parity.Random(DimsOf(name), 11, -2f, 2f) };
            var expected = new Session(folded).Run(feeds)[0].ToFloatArray();
            var actual = new Session(EdgeNet.Format.EnetReader.Load(file)).Run(feeds)[0].ToFloatArray();
            Assert.Equal(expected, actual);
            output.WriteLine($"{name}: .enet {new FileInfo(file).Length / 1024} KiB, QDQ .onnx {new FileInfo(PathOf(name)).Length / 1024} KiB");
        }
        finally
        {
            try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void RunAllocatesNothingAfterWarmUp(string name)
    {
        var session = new Session(Folded(name));
        int[] dims = DimsOf(name);
        session.SetInputShape("input", dims);
        Parity.Random(dims, 5, -2f, 2f).AsSpan<float>().CopyTo(session.Input<float>(session.InputIndex("input")));
        Allocations.AssertNoneAfterWarmUp(session.Run, batch: s_models.First(m => m.Name == name).Batch);
    }
}
