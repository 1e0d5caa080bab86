using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Onnx.Proto;
using EdgeNet.Training;

namespace EdgeNet.Onnx.Quantization;

/// <summary>
/// How a layer's weight tensor maps onto rows (output channels) of K inputs each, and the input's second moment
/// H = Σ x xᵀ over the K-vectors the layer multiplies (one H per group of a grouped Conv): what
/// <see cref="HessianRounding"/> needs to round the weight so that the layer's output moves least.
/// </summary>
/// <param name="Rows">Output channels.</param>
/// <param name="K">Inputs per output channel (Conv: input channels per group × kernel size).</param>
/// <param name="RowStride">Distance between consecutive rows' first elements in the weight tensor.</param>
/// <param name="ColStride">Distance between consecutive inputs of one row.</param>
/// <param name="Groups">Conv groups: row r belongs to group r / (Rows / Groups) and uses <see cref="H"/>[group].</param>
/// <param name="H">Per group, the K×K second moment of the layer's input vectors (row-major, divided by the count).</param>
public sealed record WeightHessian(int Rows, int K, int RowStride, int ColStride, int Groups, double[][] H, int Vectors);

/// <summary>
/// Collects <see cref="WeightHessian"/>s for the Conv / Gemm / MatMul layers of a float model by running it on
/// calibration samples. Input vectors (Conv: im2col patches) are sampled evenly so each layer sees at most a few
/// thousand per sample set: H needs a few times K of them, and its cost is vectors · K².
/// </summary>
internal static class WeightHessians
{
    /// <summary>Layers with more inputs per channel than this keep nearest rounding (H is K², its inverse K³).</summary>
    public const int MaxK = 1536;

    public static Dictionary<string, WeightHessian> Collect(ModelProto floatModel, IReadOnlyList<QuantizableLayer> layers, IReadOnlyList<Dictionary<string, Tensor>> samples)
    {
        var nodes = floatModel.Graph.Node.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var inits = floatModel.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var plans = new List<(QuantizableLayer Layer, LayerShape Shape)>();
        foreach (var l in layers)
        {
            if (l.Recurrence is not null || !nodes.TryGetValue(l.Node, out var node) || !inits.TryGetValue(l.Weight, out var w)) continue;
            if (LayerShape.Of(node, w.Dims.Select(d => (int)d).ToArray(), l.WeightAxis) is { } shape && shape.K <= MaxK) plans.Add((l, shape));
        }
        // a weight read by more than one node: nearest rounding (its H would be the sum of different inputs)
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in floatModel.Graph.Node) foreach (var i in n.Input) readers[i] = readers.GetValueOrDefault(i) + 1;
        plans.RemoveAll(p => readers.GetValueOrDefault(p.Layer.Weight) != 1);
        var result = new Dictionary<string, WeightHessian>(StringComparer.Ordinal);
        if (plans.Count == 0 || samples.Count == 0) return result;

        var model = OnnxImporter.FromProto(floatModel);
        var options = new SessionOptions { AllowInPlace = false };
        foreach (var (l, _) in plans) options.KeepAlive.Add(l.Input);
        var session = new Session(model, options);
        var sums = plans.Select(p => Enumerable.Range(0, p.Shape.Groups).Select(_ => new SecondMoment(p.Shape.K)).ToArray()).ToArray();
        var counts = new int[plans.Count];
        foreach (var sample in samples)
        {
            session.Run(sample);
            for (int p = 0; p < plans.Count; p++)
            {
                var (layer, shape) = plans[p];
                var value = model.Graph.Values[layer.Input];
                var facts = session.Plan.Facts[value];
                if (facts.DataType != DataType.Float32) continue;
                ReadOnlySpan<float> x = facts.Constant is { } c ? c.ToFloatArray() : MemoryMarshal.Cast<byte, float>(session.Plan.MemoryOf(value).Span)[..facts.ElementCount];
                counts[p] += shape.Accumulate(x, facts.Dims, sums[p], Math.Max(1, BudgetVectors(shape.K, shape.Groups) / samples.Count));
            }
        }
        for (int p = 0; p < plans.Count; p++)
        {
            if (counts[p] == 0) continue;
            var (layer, shape) = plans[p];
            result[layer.Weight] = new WeightHessian(shape.Rows, shape.K, shape.RowStride, shape.ColStride, shape.Groups,
                sums[p].Select(m => m.Mean(counts[p])).ToArray(), counts[p]);
        }
        return result;
    }

    /// <summary>
    /// Input positions per layer over all samples: about 4·10⁹ / K² multiply-adds, at least 1024 and at most 16384
    /// vectors, shared by a grouped Conv's groups (each position gives one vector per group) down to 128·K per group.
    /// </summary>
    private static int BudgetVectors(int k, int groups)
    {
        int vectors = (int)Math.Clamp(4e9 / ((double)k * k), 1024, 16384);
        return groups == 1 ? vectors : Math.Max(128 * k, vectors / groups);
    }

    /// <summary>Where a layer's K-vectors come from: a Conv's patches or a Gemm / MatMul's input rows.</summary>
    private sealed record LayerShape(int Rows, int K, int RowStride, int ColStride, int Groups, int[]? Kernel, int[]? Strides, int[]? Pads, int[]? Dilations)
    {
        public static LayerShape? Of(NodeProto node, int[] w, int axis)
        {
            switch (node.OpType)
            {
                case "Conv" when w.Length is 3 or 4 && axis == 0:
                {
                    int spatial = w.Length - 2, groups = (int)Attr(node, "group", 1);
                    if (groups < 1 || w[0] % groups != 0) return null;
                    int[] kernel = w[2..];
                    int[] strides = Ints(node, "strides", spatial, 1), dilations = Ints(node, "dilations", spatial, 1), pads = Ints(node, "pads", 2 * spatial, 0);
                    if (node.Attribute.Any(a => a.Name == "auto_pad" && a.S.ToStringUtf8() is not ("" or "NOTSET"))) return null;
                    int k = w[1] * kernel.Aggregate(1, (a, d) => a * d);
                    return new LayerShape(w[0], k, k, 1, groups, kernel, strides, pads, dilations);
                }
                case "Gemm" or "MatMul" when w.Length == 2:
                    // axis 1: weight [K, N] (a row is a column of it); axis 0: Gemm transB, weight [N, K]
                    return axis == 1 ? new LayerShape(w[1], w[0], 1, w[1], 1, null, null, null, null) : new LayerShape(w[0], w[1], w[1], 1, 1, null, null, null, null);
                default:
                    return null;
            }
        }

        /// <summary>Adds up to <paramref name="budget"/> of this input's K-vectors (evenly spaced) into the groups' sums; returns how many.</summary>
        public int Accumulate(ReadOnlySpan<float> x, int[] dims, SecondMoment[] sums, int budget)
        {
            if (Kernel is null)
            {
                if (dims.Length == 0 || dims[^1] != K) return 0;
                int rows = x.Length / K, every = Math.Max(1, rows / budget), added = 0;
                for (int r = every / 2; r < rows; r += every, added++) x.Slice(r * K, K).CopyTo(sums[0].Next());
                return added;
            }
            int spatial = Kernel.Length;
            if (dims.Length != spatial + 2) return 0;
            int batch = dims[0], channels = dims[1], perGroup = channels / Groups;
            int inH = spatial == 2 ? dims[2] : 1, inW = dims[^1];
            int kh = spatial == 2 ? Kernel[0] : 1, kw = Kernel[^1];
            int sh = spatial == 2 ? Strides![0] : 1, sw = Strides![^1], dh = spatial == 2 ? Dilations![0] : 1, dw = Dilations![^1];
            int padTop = spatial == 2 ? Pads![0] : 0, padLeft = Pads![spatial - 1];
            int padBottom = spatial == 2 ? Pads[2] : 0, padRight = Pads[^1];
            int outH = (inH + padTop + padBottom - dh * (kh - 1) - 1) / sh + 1, outW = (inW + padLeft + padRight - dw * (kw - 1) - 1) / sw + 1;
            if (outH <= 0 || outW <= 0 || perGroup * kh * kw != K) return 0;
            long positions = (long)batch * outH * outW;
            // the budget counts positions: each gives one vector per group
            long step = Math.Max(1, positions / budget);
            int count = 0;
            for (long at = step / 2; at < positions; at += step, count++)
            {
                int b = (int)(at / (outH * outW)), oy = (int)(at / outW % outH), ox = (int)(at % outW);
                for (int g = 0; g < Groups; g++)
                {
                    var vector = sums[g].Next();
                    int i = 0;
                    for (int c = 0; c < perGroup; c++)
                    {
                        int plane = (b * channels + g * perGroup + c) * inH * inW;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int y = oy * sh - padTop + ky * dh;
                            for (int kx = 0; kx < kw; kx++, i++)
                            {
                                int xx = ox * sw - padLeft + kx * dw;
                                vector[i] = y >= 0 && y < inH && xx >= 0 && xx < inW ? x[plane + y * inW + xx] : 0;
                            }
                        }
                    }
                }
            }
            return count;
        }

        private static long Attr(NodeProto n, string name, long fallback) => n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

        private static int[] Ints(NodeProto n, string name, int count, int fallback)
        {
            var a = n.Attribute.FirstOrDefault(x => x.Name == name);
            if (a is null || a.Ints.Count != count) return Enumerable.Repeat(fallback, count).ToArray();
            return a.Ints.Select(v => (int)v).ToArray();
        }
    }

    /// <summary>
    /// Σ x xᵀ over K-vectors, gathered 256 at a time and added with the fp32 GEMM (Xᵀ X, <see cref="TrainGemm"/>): a
    /// layer's few thousand vectors cost a few GFLOP, which the blocked kernel does in a fraction of a second.
    /// </summary>
    internal sealed unsafe class SecondMoment(int k)
    {
        private const int Batch = 256, SmallK = 32;
        private readonly float[] _vectors = new float[Batch * k];
        private readonly float[] _sum = k <= SmallK ? [] : new float[k * k];
        private readonly double[] _small = k <= SmallK ? new double[k * k] : [];
        private int _filled;
        private TrainGemm? _gemm;

        /// <summary>The next vector to fill (added once the batch is full or <see cref="Mean"/> is called).</summary>
        public Span<float> Next()
        {
            if (_filled == Batch) Flush();
            return _vectors.AsSpan(_filled++ * k, k);
        }

        /// <summary>Σ x xᵀ / count in double, row-major k×k.</summary>
        public double[] Mean(int count)
        {
            Flush();
            var h = new double[k * k];
            for (int i = 0; i < h.Length; i++) h[i] = (k <= SmallK ? _small[i] : _sum[i]) / count;
            // the two halves come from the same products, but make H exactly symmetric for the factorization
            for (int i = 0; i < k; i++)
                for (int j = i + 1; j < k; j++) h[j * k + i] = h[i * k + j];
            return h;
        }

        private void Flush()
        {
            if (_filled == 0) return;
            if (k <= SmallK)
            {
                // a depthwise Conv's 9 or 25 inputs: a GEMM (and its packing buffers) per group would cost more than it saves
                for (int v = 0; v < _filled; v++)
                {
                    var x = _vectors.AsSpan(v * k, k);
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++) _small[i * k + j] += (double)x[i] * x[j];
                }
                _filled = 0;
                return;
            }
            // C[k×k] += Aᵀ·A with A the filled vectors (m × k stored row-major = transposed k × m for op(A) = Aᵀ)
            var gemm = _filled == Batch ? _gemm ??= new TrainGemm(IsaSupport.Resolve(), k, k, Batch, transA: true, transB: false, accumulate: true)
                : new TrainGemm(IsaSupport.Resolve(), k, k, _filled, transA: true, transB: false, accumulate: true);
            fixed (float* a = _vectors)
            fixed (float* c = _sum)
                gemm.Run(a, a, c);
            _filled = 0;
        }
    }
}
