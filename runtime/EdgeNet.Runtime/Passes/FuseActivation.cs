using EdgeNet.IR;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Passes;

/// <summary>
/// Folds an activation into the op producing its input (Conv, ConvTranspose, Gemm, MatMul, Add): the producer applies
/// it while its output is still in cache. Relu, LeakyRelu(α), Clip(min,max) incl. Relu6, HardSigmoid(α,β), HardSwish,
/// Sigmoid, Tanh, edgenet.Swish (made by FuseSwish), and Max with a one-element constant (as Relu / Clip, or after a
/// fused LeakyRelu as LeakyReluFloor). Only when the producer's output has no other reader and is not a graph output.
/// </summary>
public sealed class FuseActivation : IGraphPass
{
    private static readonly HashSet<string> s_producers = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add"];

    public string Name => "FuseActivation";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var producer in g.Nodes)
        {
            if (producer.Domain.Length != 0 || !s_producers.Contains(producer.OpType) || producer.Outputs.Count != 1) continue;
            if (GraphEdits.SoleConsumer(g, producer.Outputs[0]) is not { } act || act.Outputs.Count != 1) continue;
            if (producer.HasAttribute(FusedActivation.KindAttribute))
            {
                // a fused LeakyRelu followed by Max(·, c) (TensorFlow's openWakeWord layers): one LeakyReluFloor
                if (FusedActivation.Of(producer) is { Kind: ActivationKind.LeakyRelu } leaky && MaxWithConstant(act, producer) is { } c
                    && Fold(g, producer, act, new FusedActivation(ActivationKind.LeakyReluFloor, leaky.Alpha, c))) return true;
                continue;
            }
            if (MaxWithConstant(act, producer) is { } floor)
            {
                // Max(x, c) with a one-element constant c (TensorFlow's "maximum" ReLU): Relu for c = 0, else
                // Clip(c, +∞) (= max(x, c) with the same NaN and signed-zero rules)
                var relu = floor == 0 ? new FusedActivation(ActivationKind.Relu) : new FusedActivation(ActivationKind.Clip, floor, float.PositiveInfinity);
                if (Fold(g, producer, act, relu)) return true;
                continue;
            }
            if (act.Inputs[0] != producer.Outputs[0]) continue;
            if (Activation(act) is { } fused && Fold(g, producer, act, fused)) return true;
        }
        return false;
    }

    /// <summary>Writes <paramref name="fused"/> into <paramref name="producer"/>, which takes over the activation's output.</summary>
    private static bool Fold(IR.Graph g, Node producer, Node act, FusedActivation fused)
    {
        if (producer.OpType is "Add" or "MatMul" && (producer.Input(0)?.DataType is not (DataType.Float32 or DataType.Undefined))) return false;
        fused.WriteTo(producer);
        var oldOut = producer.Outputs[0];
        producer.Outputs[0] = act.Outputs[0];
        act.Outputs[0].Producer = producer;
        g.Nodes.Remove(act);
        g.Values.Remove(oldOut.Name);
        return true;
    }

    /// <summary>c when <paramref name="max"/> is Max(x, c) or Max(c, x) of the producer's output x and a float32
    /// constant with one element that does not broadcast x to more dimensions; else null.</summary>
    private static float? MaxWithConstant(Node max, Node producer)
    {
        var x = producer.Outputs[0];
        if (max.Domain.Length != 0 || max.OpType != "Max" || max.Inputs.Count != 2) return null;
        var other = max.Inputs[0] == x ? max.Inputs[1] : max.Inputs[1] == x ? max.Inputs[0] : null;
        if (other?.Constant is not { ElementCount: 1, DataType: DataType.Float32 } c || x.DataType is not (DataType.Float32 or DataType.Undefined)) return null;
        if (c.Dims.Length > 0 && !(Rank(producer) >= c.Dims.Length)) return null;
        float floor = (float)c.GetAsDouble(0);
        return float.IsNaN(floor) ? null : floor;
    }

    /// <summary>The rank of the producer's output: its shape when known, else what the op implies (a Conv's output has
    /// its weights' rank, as tf2onnx graphs without value shapes need); null when unknown.</summary>
    private static int? Rank(Node producer) => producer.Outputs[0].Shape?.Length ?? producer.OpType switch
    {
        "Conv" or "ConvTranspose" => producer.Input(1) is { } w ? w.Constant?.Dims.Length ?? w.Shape?.Length : null,
        "Gemm" => 2,
        _ => null,
    };

    private static FusedActivation? Activation(Node act) => act.Domain == FuseSwish.Domain
        ? (act.OpType == "Swish" ? new FusedActivation(ActivationKind.Swish) : null)
        : act.Domain.Length != 0 ? null : act.OpType switch
    {
        "Relu" => new FusedActivation(ActivationKind.Relu),
        "LeakyRelu" => new FusedActivation(ActivationKind.LeakyRelu, act.GetFloat("alpha", 0.01f)),
        "HardSigmoid" => new FusedActivation(ActivationKind.HardSigmoid, act.GetFloat("alpha", 0.2f), act.GetFloat("beta", 0.5f)),
        "HardSwish" => new FusedActivation(ActivationKind.HardSwish),
        "Sigmoid" => new FusedActivation(ActivationKind.Sigmoid),
        "Tanh" => new FusedActivation(ActivationKind.Tanh),
        "Clip" => GraphEdits.ClipBounds(act) is var (lo, hi) ? new FusedActivation(ActivationKind.Clip, lo, hi) : null,
        _ => null,
    };
}
