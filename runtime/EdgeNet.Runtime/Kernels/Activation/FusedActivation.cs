using EdgeNet.IR;

namespace EdgeNet.Kernels.Activation;

/// <summary>Activation a producer op (Conv, ConvTranspose, Gemm, MatMul, Add, BatchNormalization) applies to its output in the same pass.</summary>
public enum ActivationKind { None, Relu, LeakyRelu, Clip, HardSigmoid, HardSwish, Sigmoid, Swish, Tanh }

/// <summary>
/// A fused activation. Graph passes store it on the producer node as attributes
/// <c>edgenet.activation</c> (string: the kind's name) and <c>edgenet.activation_params</c> (floats: alpha/min, beta/max).
/// </summary>
public readonly record struct FusedActivation(ActivationKind Kind, float Alpha = 0, float Beta = 0)
{
    public const string KindAttribute = "edgenet.activation";
    public const string ParamsAttribute = "edgenet.activation_params";

    public static FusedActivation None => default;

    /// <summary>Reads the fused activation of a node (None when it has none).</summary>
    public static FusedActivation Of(Node node)
    {
        string name = node.GetString(KindAttribute, "");
        if (name.Length == 0) return None;
        if (!Enum.TryParse<ActivationKind>(name, out var kind))
            throw new InvalidModelException($"Node '{node.Name}': unknown fused activation '{name}'");
        var p = node.GetFloats(ParamsAttribute) ?? [];
        return new FusedActivation(kind, p.Length > 0 ? p[0] : 0, p.Length > 1 ? p[1] : 0);
    }

    /// <summary>Stores this activation on a node.</summary>
    public void WriteTo(Node node)
    {
        node.SetAttribute(IR.Attribute.Of(KindAttribute, Kind.ToString()));
        node.SetAttribute(IR.Attribute.Of(ParamsAttribute, new[] { Alpha, Beta }));
    }

    /// <summary>Scalar reference: applies the activation to one value.</summary>
    public float Apply(float x) => Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => MathF.Max(x, 0),
        ActivationKind.LeakyRelu => x >= 0 ? x : x * Alpha,
        ActivationKind.Clip => MathF.Min(MathF.Max(x, Alpha), Beta),
        ActivationKind.HardSigmoid => MathF.Max(0, MathF.Min(1, Alpha * x + Beta)),
        ActivationKind.HardSwish => x * MathF.Max(0, MathF.Min(1, x / 6f + 0.5f)),
        ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        ActivationKind.Swish => x / (1f + MathF.Exp(-x)),
        ActivationKind.Tanh => MathF.Tanh(x),
        _ => x,
    };

    /// <summary>Applies the activation in place over a span.</summary>
    public void Apply(Span<float> values)
    {
        if (Kind == ActivationKind.None) return;
        for (int i = 0; i < values.Length; i++) values[i] = Apply(values[i]);
    }
}
