using EdgeNet.IR;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = EdgeNet.IR.Tensor;

namespace EdgeNet.Tests.RealModels;

/// <summary>ONNX Runtime as the external oracle: runs the same .onnx file on the same inputs (tests only).</summary>
internal static class OrtOracle
{
    public static Tensor[] Run(string modelPath, IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(modelPath, options);
        var feeds = new List<NamedOnnxValue>();
        foreach (var (name, t) in inputs)
        {
            if (t.DataType != DataType.Float32) throw new NotSupportedException("oracle feeds float inputs only");
            feeds.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(t.ToFloatArray(), t.Dims)));
        }
        using var results = session.Run(feeds);
        var outputs = new Tensor[session.OutputMetadata.Count];
        int i = 0;
        foreach (var name in session.OutputMetadata.Keys)
        {
            var r = results.First(x => x.Name == name).AsTensor<float>();
            outputs[i++] = Tensor.FromArray(r.Dimensions.ToArray(), r.ToArray());
        }
        return outputs;
    }
}
