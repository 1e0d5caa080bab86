using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>
/// Folds an inference BatchNormalization into the Conv before it. Per output channel m, with
/// s_m = γ_m / √(σ²_m + ε):   W'[m,…] = W[m,…] · s_m   and   b'_m = (b_m − μ_m) · s_m + β_m.
/// Requires constant weights and BN parameters, and the Conv output read by that BN only.
/// </summary>
public sealed class FuseConvBatchNorm : IGraphPass
{
    public string Name => "FuseConvBatchNorm";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var conv in g.Nodes)
        {
            if (conv.OpType != "Conv" || conv.Domain.Length != 0 || conv.Outputs.Count != 1) continue;
            if (conv.Input(1)?.Constant is not { DataType: DataType.Float32 } w) continue;
            var bias = conv.Input(2)?.Constant;
            if (conv.HasInput(2) && bias is null) continue;
            if (conv.HasAttribute(Kernels.Activation.FusedActivation.KindAttribute)) continue;
            if (GraphEdits.SoleConsumer(g, conv.Outputs[0]) is not { OpType: "BatchNormalization" } bn || bn.Inputs[0] != conv.Outputs[0]) continue;
            if (bn.Outputs.Count != 1 || bn.GetInt("training_mode", 0) != 0) continue;
            var p = new Tensor?[4];
            for (int i = 0; i < 4; i++) p[i] = bn.Input(i + 1)?.Constant;
            if (p.Any(t => t is null || t.DataType != DataType.Float32)) continue;
            int m = w.Dims[0];
            if (p.Any(t => t!.ElementCount != m) || (bias is not null && bias.ElementCount != m)) continue;

            float eps = bn.GetFloat("epsilon", 1e-5f);
            var gamma = p[0]!.AsSpan<float>(); var beta = p[1]!.AsSpan<float>();
            var mean = p[2]!.AsSpan<float>(); var variance = p[3]!.AsSpan<float>();
            var newW = w.Clone();
            var wSpan = newW.AsSpan<float>();
            int per = w.ElementCount / m;
            var newB = Tensor.Zeros(DataType.Float32, [m]);
            var bSpan = newB.AsSpan<float>();
            for (int c = 0; c < m; c++)
            {
                float s = gamma[c] / MathF.Sqrt(variance[c] + eps);
                foreach (ref float x in wSpan.Slice(c * per, per)) x *= s;
                float b0 = bias is null ? 0 : bias.AsSpan<float>()[c];
                bSpan[c] = (b0 - mean[c]) * s + beta[c];
            }
            var wValue = g.AddConstant(conv.Inputs[1]!.Name + "_bnfolded", newW);
            var bValue = g.AddConstant(conv.Name + "_bias_bnfolded", newB);
            conv.Inputs[1] = wValue;
            if (conv.Inputs.Count > 2) conv.Inputs[2] = bValue; else conv.Inputs.Add(bValue);
            var oldOut = conv.Outputs[0];
            conv.Outputs[0] = bn.Outputs[0];
            bn.Outputs[0].Producer = conv;
            g.Nodes.Remove(bn);
            g.Values.Remove(oldOut.Name);
            return true;
        }
        return false;
    }
}
