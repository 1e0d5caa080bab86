using EdgeNet.IR;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = EdgeNet.IR.Tensor;

namespace EdgeNet.Tests.RealModels;

/// <summary>ONNX Runtime as the external oracle: runs the same .onnx file on the same inputs (tests only).</summary>
internal static class OrtOracle
{
    private static readonly Dictionary<string, InferenceSession> s_sessions = new(StringComparer.Ordinal);

    private static InferenceSession SessionFor(string modelPath)
    {
        lock (s_sessions)
        {
            if (!s_sessions.TryGetValue(modelPath, out var session))
            {
                var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
                s_sessions[modelPath] = session = new InferenceSession(modelPath, options);
            }
            return session;
        }
    }

    public static Tensor[] Run(string modelPath, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var session = SessionFor(modelPath);
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
