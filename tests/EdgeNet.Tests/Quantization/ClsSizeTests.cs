using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Quantization;
using EdgeNet.Passes;
using EdgeNet.Tests.RealModels;
using Xunit.Abstractions;

namespace EdgeNet.Tests.Quantization;

/// <summary>
/// The int8 .enet of ch_ppocr_mobile_v2.0_cls keeps its weights int8: every Conv / Gemm / MatMul of the QDQ graph,
/// including those whose output feeds float consumers, folds into an integer op (FuseQdqConv / FuseQdqGemm), so
/// constant folding cannot turn the int8 weights back into float.
/// </summary>
public class ClsSizeTests(ITestOutputHelper output)
{
    [Fact]
    public void Int8ClassifierIsAtMostThreeTenthsOfFp32()
    {
        string cls = RepoPaths.Model("ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx");
        var (crops, _) = QuantTestData.TextCrops;
        string dir = QuantTestData.TempDir();

        var fp32 = OnnxImporter.Load(cls);
        PassPipeline.Optimize(fp32);
        string fp32Path = Path.Combine(dir, "cls-fp32.enet");
        EnetWriter.Write(fp32, fp32Path);

        var result = Quantizer.Quantize(OnnxImporter.Load(cls), QuantTestData.Samples("x", crops, 0, 4));
        var int8 = OnnxImporter.FromProto(result.QdqModel);
        PassPipeline.Optimize(int8);
        string int8Path = Path.Combine(dir, "cls-int8.enet");
        EnetWriter.Write(int8, int8Path);

        long fp32Bytes = new FileInfo(fp32Path).Length, int8Bytes = new FileInfo(int8Path).Length;
        double ratio = (double)int8Bytes / fp32Bytes;
        output.WriteLine($"fp32 .enet {fp32Bytes} bytes, int8 .enet {int8Bytes} bytes, ratio {ratio:F3}");
        foreach (var group in int8.Graph.Nodes.GroupBy(n => n.OpType).OrderBy(g => g.Key))
            output.WriteLine($"  {group.Key}: {group.Count()}");
        Assert.DoesNotContain(int8.Graph.Nodes, n => n.OpType is "Conv" or "Gemm" or "MatMul");
        Assert.True(ratio <= 0.3, $"int8 .enet is {ratio:F3}× the fp32 .enet ({int8Bytes} vs {fp32Bytes} bytes)");
    }
}
