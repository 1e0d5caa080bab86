using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Kernels.Activation;

/// <summary>Activation a producer op (Conv, ConvTranspose, Gemm, MatMul, Add, BatchNormalization) applies to its output in the same pass.</summary>
public enum ActivationKind
{
    None, Relu, LeakyRelu, Clip, HardSigmoid, HardSwish, Sigmoid, Swish, Tanh,
    /// <summary>max(LeakyRelu_α(x), floor): Alpha = α, Beta = floor (a LeakyRelu followed by Max with a constant, as
    /// TensorFlow exports openWakeWord's activations).</summary>
    LeakyReluFloor,
}

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
        ActivationKind.LeakyReluFloor => MathF.Max(x >= 0 ? x : x * Alpha, Beta),
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

    /// <summary>
    /// Applies the activation in place with the vector width of <paramref name="isa"/> (Scalar: the reference loop
    /// above). Sigmoid, Swish and Tanh use <see cref="VectorMath"/> (≤ 2 ulp from the exact function); the others
    /// give the reference's bits.
    /// </summary>
    public void Apply(Span<float> values, Isa isa) => Apply(values, values, isa);

    /// <summary>destination = activation(source), vectorized for <paramref name="isa"/>; the spans may be the same memory.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, Isa isa)
    {
        var width = F32Elementwise.WidthOf(isa);
        source = source[..destination.Length];
        if (width == VectorWidth.Scalar || Kind == ActivationKind.None)
        {
            if (Kind == ActivationKind.None)
            {
                if (!Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination)))
                    source.CopyTo(destination);
                return;
            }
            for (int i = 0; i < destination.Length; i++) destination[i] = Apply(source[i]);
            return;
        }
        switch (Kind)
        {
            case ActivationKind.Relu: F32Elementwise.Unary(new F32Clip(0, float.PositiveInfinity), source, destination, width); break;
            case ActivationKind.LeakyRelu: F32Elementwise.Unary(new F32LeakyRelu(Alpha), source, destination, width); break;
            case ActivationKind.LeakyReluFloor: F32Elementwise.Unary(new F32LeakyReluFloor(Alpha, Beta), source, destination, width); break;
            case ActivationKind.Clip: F32Elementwise.Unary(new F32Clip(Alpha, Beta), source, destination, width); break;
            case ActivationKind.HardSigmoid: F32Elementwise.Unary(new F32HardSigmoid(Alpha, Beta), source, destination, width); break;
            case ActivationKind.HardSwish: F32Elementwise.Unary(new F32HardSwish(), source, destination, width); break;
            case ActivationKind.Sigmoid: F32Elementwise.Unary(new F32Sigmoid(), source, destination, width); break;
            case ActivationKind.Swish: F32Elementwise.Unary(new F32Swish(), source, destination, width); break;
            case ActivationKind.Tanh: F32Elementwise.Unary(new F32Tanh(), source, destination, width); break;
            default: for (int i = 0; i < destination.Length; i++) destination[i] = Apply(source[i]); break;
        }
    }

    /// <summary>The activation of one register (GEMM / Conv microkernel epilogues apply it before the store).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Apply(Vector128<float> v) => Kind switch
    {
        ActivationKind.None => v,
        ActivationKind.Relu => Vector128.Max(v, Vector128<float>.Zero),
        ActivationKind.LeakyRelu => new F32LeakyRelu(Alpha).Invoke(v),
        ActivationKind.LeakyReluFloor => new F32LeakyReluFloor(Alpha, Beta).Invoke(v),
        ActivationKind.Clip => new F32Clip(Alpha, Beta).Invoke(v),
        ActivationKind.HardSigmoid => new F32HardSigmoid(Alpha, Beta).Invoke(v),
        ActivationKind.HardSwish => new F32HardSwish().Invoke(v),
        ActivationKind.Sigmoid => VectorMath.Sigmoid(v),
        ActivationKind.Swish => VectorMath.Swish(v),
        ActivationKind.Tanh => VectorMath.Tanh(v),
        _ => v,
    };

    /// <inheritdoc cref="Apply(Vector128{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(Vector256<float> v) => Kind switch
    {
        ActivationKind.None => v,
        ActivationKind.Relu => Vector256.Max(v, Vector256<float>.Zero),
        ActivationKind.LeakyRelu => new F32LeakyRelu(Alpha).Invoke(v),
        ActivationKind.LeakyReluFloor => new F32LeakyReluFloor(Alpha, Beta).Invoke(v),
        ActivationKind.Clip => new F32Clip(Alpha, Beta).Invoke(v),
        ActivationKind.HardSigmoid => new F32HardSigmoid(Alpha, Beta).Invoke(v),
        ActivationKind.HardSwish => new F32HardSwish().Invoke(v),
        ActivationKind.Sigmoid => VectorMath.Sigmoid(v),
        ActivationKind.Swish => VectorMath.Swish(v),
        ActivationKind.Tanh => VectorMath.Tanh(v),
        _ => v,
    };

    /// <inheritdoc cref="Apply(Vector128{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(Vector512<float> v) => Kind switch
    {
        ActivationKind.None => v,
        ActivationKind.Relu => Vector512.Max(v, Vector512<float>.Zero),
        ActivationKind.LeakyRelu => new F32LeakyRelu(Alpha).Invoke(v),
        ActivationKind.LeakyReluFloor => new F32LeakyReluFloor(Alpha, Beta).Invoke(v),
        ActivationKind.Clip => new F32Clip(Alpha, Beta).Invoke(v),
        ActivationKind.HardSigmoid => new F32HardSigmoid(Alpha, Beta).Invoke(v),
        ActivationKind.HardSwish => new F32HardSwish().Invoke(v),
        ActivationKind.Sigmoid => VectorMath.Sigmoid(v),
        ActivationKind.Swish => VectorMath.Swish(v),
        ActivationKind.Tanh => VectorMath.Tanh(v),
        _ => v,
    };
}
