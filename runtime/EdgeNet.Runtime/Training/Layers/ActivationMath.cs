using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Activation;

namespace EdgeNet.Training.Layers;

/// <summary>Derivatives of the <see cref="FusedActivation"/> kinds: dy/dx from the input x and the output y.</summary>
public static class ActivationMath
{
    public static float Derivative(in FusedActivation a, float x, float y) => a.Kind switch
    {
        ActivationKind.None => 1,
        ActivationKind.Relu => x > 0 ? 1 : 0,
        ActivationKind.LeakyRelu => x >= 0 ? 1 : a.Alpha,
        // max(leaky(x), floor): the gradient flows where the LeakyRelu output is the larger one (a tie counts as the
        // LeakyRelu's: the subgradient of max at a tie is taken from its first operand)
        ActivationKind.LeakyReluFloor => (x >= 0 ? x : a.Alpha * x) >= a.Beta ? (x >= 0 ? 1 : a.Alpha) : 0,
        ActivationKind.Clip => x > a.Alpha && x < a.Beta ? 1 : 0,
        ActivationKind.HardSigmoid => a.Alpha * x + a.Beta is > 0 and < 1 ? a.Alpha : 0,
        ActivationKind.HardSwish => x <= -3 ? 0 : x >= 3 ? 1 : x / 3f + 0.5f,
        ActivationKind.Sigmoid => y * (1 - y),
        ActivationKind.Swish => SwishDerivative(x),
        ActivationKind.Tanh => 1 - y * y,
        _ => throw new InvalidOperationException($"No derivative for {a.Kind}"),
    };

    private static float SwishDerivative(float x)
    {
        float s = 1f / (1f + MathF.Exp(-x));
        return s + x * s * (1 - s);
    }

    /// <summary>dx = dy · f'(x) (written or added), over whole spans.</summary>
    public static void Backward(in FusedActivation a, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate)
    {
        switch (a.Kind)
        {
            case ActivationKind.None:
                if (accumulate) TrainGemm.Add(dx, dy); else dy.CopyTo(dx);
                return;
            case ActivationKind.Relu when !accumulate:
                ReluBackward(x, dy, dx);
                return;
            default:
                if (accumulate) for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * Derivative(a, x[i], y[i]);
                else for (int i = 0; i < dx.Length; i++) dx[i] = dy[i] * Derivative(a, x[i], y[i]);
                return;
        }
    }

    /// <summary>dx = x &gt; 0 ? dy : 0, as a vector select (a branch per element mispredicts on half of them).</summary>
    private static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int i = 0, n = dx.Length;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var m = Vector256.GreaterThan(Vector256.Create(x.Slice(i, 8)), Vector256<float>.Zero);
                (Vector256.Create(dy.Slice(i, 8)) & m).CopyTo(dx.Slice(i, 8));
            }
        else if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= n; i += 4)
            {
                var m = Vector128.GreaterThan(Vector128.Create(x.Slice(i, 4)), Vector128<float>.Zero);
                (Vector128.Create(dy.Slice(i, 4)) & m).CopyTo(dx.Slice(i, 4));
            }
        for (; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
    }
}

/// <summary>An element-wise activation (Relu, Relu6 = Clip(0, 6), Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh, Swish).</summary>
public sealed class ActivationLayer(string name, TrainTensor input, FusedActivation activation, Kernels.Isa isa)
    : TrainLayer(name, [input], input.SampleShape)
{
    public FusedActivation Activation { get; } = activation;

    public override void Forward(int batch, bool training) => Activation.Apply(Inputs[0].Data(batch), Output.Data(batch), isa);

    public override void Backward(int batch)
    {
        var x = Inputs[0];
        if (!x.NeedsGrad) return;
        ActivationMath.Backward(Activation, x.Data(batch), Output.Data(batch), Output.Grad(batch), x.Grad(batch), x.AccumulateGrad);
    }
}
