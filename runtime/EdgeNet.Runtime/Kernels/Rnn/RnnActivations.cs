namespace EdgeNet.Kernels.Rnn;

/// <summary>The activation functions ONNX allows in the <c>activations</c> attribute of LSTM, GRU and RNN.</summary>
public enum RnnActivationKind
{
    Relu,
    Tanh,
    Sigmoid,
    Affine,
    LeakyRelu,
    ThresholdedRelu,
    ScaledTanh,
    HardSigmoid,
    Elu,
    Softsign,
    Softplus,
}

/// <summary>
/// One recurrent activation with its α/β:
/// Relu max(0,x); Tanh; Sigmoid 1/(1+e^−x); Affine αx+β; LeakyRelu x≥0 ? x : αx; ThresholdedRelu x&gt;α ? x : 0;
/// ScaledTanh α·tanh(βx); HardSigmoid min(max(αx+β,0),1); Elu x≥0 ? x : α(eˣ−1); Softsign x/(1+|x|); Softplus log(1+eˣ).
/// </summary>
public readonly record struct RnnActivation(RnnActivationKind Kind, float Alpha = 0, float Beta = 0)
{
    public static readonly RnnActivation Sigmoid = new(RnnActivationKind.Sigmoid);
    public static readonly RnnActivation Tanh = new(RnnActivationKind.Tanh);

    /// <summary>The kind named by an ONNX activation string (case-insensitive, as ONNX Runtime accepts), or null.</summary>
    public static RnnActivationKind? Parse(string name) => name.ToUpperInvariant() switch
    {
        "RELU" => RnnActivationKind.Relu,
        "TANH" => RnnActivationKind.Tanh,
        "SIGMOID" => RnnActivationKind.Sigmoid,
        "AFFINE" => RnnActivationKind.Affine,
        "LEAKYRELU" => RnnActivationKind.LeakyRelu,
        "THRESHOLDEDRELU" => RnnActivationKind.ThresholdedRelu,
        "SCALEDTANH" => RnnActivationKind.ScaledTanh,
        "HARDSIGMOID" => RnnActivationKind.HardSigmoid,
        "ELU" => RnnActivationKind.Elu,
        "SOFTSIGN" => RnnActivationKind.Softsign,
        "SOFTPLUS" => RnnActivationKind.Softplus,
        _ => null,
    };

    /// <summary>Whether the kind reads α and β from activation_alpha / activation_beta (only those consume list entries).</summary>
    public static (bool Alpha, bool Beta) Uses(RnnActivationKind kind) => kind switch
    {
        RnnActivationKind.Affine or RnnActivationKind.ScaledTanh or RnnActivationKind.HardSigmoid => (true, true),
        RnnActivationKind.LeakyRelu or RnnActivationKind.ThresholdedRelu or RnnActivationKind.Elu => (true, false),
        _ => (false, false),
    };

    /// <summary>α and β when the attribute lists run out: the defaults of the matching stand-alone ONNX operators.</summary>
    public static (float Alpha, float Beta) Defaults(RnnActivationKind kind) => kind switch
    {
        RnnActivationKind.Affine => (1f, 0f),
        RnnActivationKind.LeakyRelu => (0.01f, 0f),
        RnnActivationKind.ThresholdedRelu => (1f, 0f),
        RnnActivationKind.ScaledTanh => (1f, 1f),
        RnnActivationKind.HardSigmoid => (0.2f, 0.5f),
        RnnActivationKind.Elu => (1f, 0f),
        _ => (0f, 0f),
    };

    public float Invoke(float x) => Kind switch
    {
        RnnActivationKind.Relu => x > 0 ? x : 0,
        RnnActivationKind.Tanh => MathF.Tanh(x),
        RnnActivationKind.Sigmoid => SigmoidOf(x),
        RnnActivationKind.Affine => Alpha * x + Beta,
        RnnActivationKind.LeakyRelu => x >= 0 ? x : Alpha * x,
        RnnActivationKind.ThresholdedRelu => x > Alpha ? x : 0,
        RnnActivationKind.ScaledTanh => Alpha * MathF.Tanh(Beta * x),
        RnnActivationKind.HardSigmoid => Math.Clamp(Alpha * x + Beta, 0f, 1f),
        RnnActivationKind.Elu => x >= 0 ? x : Alpha * (MathF.Exp(x) - 1),
        RnnActivationKind.Softsign => x / (1 + MathF.Abs(x)),
        // log(1+eˣ) = max(x,0) + log(1+e^−|x|) keeps large |x| from overflowing
        RnnActivationKind.Softplus => MathF.Max(x, 0) + MathF.Log(1 + MathF.Exp(-MathF.Abs(x))),
        _ => x,
    };

    /// <summary>Clips each value to [−clip, clip] (the spec's cell clip, applied to activation inputs), then activates in place.</summary>
    public void Apply(Span<float> values, float clip)
    {
        if (float.IsFinite(clip))
            foreach (ref float v in values) v = Invoke(Math.Clamp(v, -clip, clip));
        else
            foreach (ref float v in values) v = Invoke(v);
    }

    private static float SigmoidOf(float x)
    {
        // the two branches keep e^(±x) ≤ 1 so neither overflows
        if (x >= 0) return 1 / (1 + MathF.Exp(-x));
        float e = MathF.Exp(x);
        return e / (1 + e);
    }
}
