using System.Numerics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Elementwise;

/// <summary>
/// Unary math and activations. Attributes map to the operator's parameters: alpha/beta/gamma as the ONNX op defines
/// them (LeakyRelu alpha=0.01, Elu alpha=1, Selu alpha/gamma, HardSigmoid alpha=0.2 beta=0.5, Shrink bias/lambd, ...).
/// Abs, Neg, Sign and Relu also accept integer types.
/// </summary>
public sealed class UnaryOp(string opType, UnaryKind kind, string domain = "") : OpDefinition
{
    public override string OpType => opType;
    public override string Domain => domain;
    public override int InPlaceInput => 0;

    public override void Infer(OpContext ctx) => ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));

    public override Kernel CreateKernel(OpContext ctx)
    {
        var type = ctx.InputType(0);
        if (!Numeric.IsFloat(type))
        {
            if (kind is UnaryKind.Abs or UnaryKind.Neg or UnaryKind.Sign or UnaryKind.Relu)
                return Numeric.Create(type, new IntFactory(kind), ctx.Node);
            throw UnsupportedOperatorException.For(ctx.Node, $"element type {type} is not supported");
        }
        var (alpha, beta, gamma) = Parameters(ctx);
        if (type == DataType.Float32 && Vectorized(kind, (float)alpha, (float)beta, (float)gamma, F32Elementwise.WidthOf(ctx.Isa)) is { } fast) return fast;
        return Numeric.CreateFloat(type, new FloatFactory(kind, alpha, beta, gamma), ctx.Node);
    }

    /// <summary>The vectorized float32 kernel for this kind on a SIMD path, or null (scalar ISA, or no vector form).</summary>
    internal static Kernel? Vectorized(UnaryKind kind, float alpha, float beta, float gamma, VectorWidth w) => w == VectorWidth.Scalar ? null : kind switch
    {
        UnaryKind.Elu => new F32UnaryKernel<F32Elu>(new F32Elu(alpha), w),
        UnaryKind.Selu => new F32UnaryKernel<F32Selu>(new F32Selu(alpha, gamma), w),
        UnaryKind.Softplus => new F32UnaryKernel<F32Softplus>(default, w),
        UnaryKind.Mish => new F32UnaryKernel<F32Mish>(default, w),
        UnaryKind.Relu => new F32UnaryKernel<F32Relu>(default, w),
        UnaryKind.LeakyRelu => new F32UnaryKernel<F32LeakyRelu>(new F32LeakyRelu(alpha), w),
        UnaryKind.HardSigmoid => new F32UnaryKernel<F32HardSigmoid>(new F32HardSigmoid(alpha, beta), w),
        UnaryKind.HardSwish => new F32UnaryKernel<F32HardSwish>(default, w),
        UnaryKind.Sigmoid => new F32UnaryKernel<F32Sigmoid>(default, w),
        UnaryKind.Tanh => new F32UnaryKernel<F32Tanh>(default, w),
        UnaryKind.Exp => new F32UnaryKernel<F32Exp>(default, w),
        UnaryKind.Log => new F32UnaryKernel<F32Log>(default, w),
        UnaryKind.Swish => new F32UnaryKernel<F32Swish>(default, w),
        UnaryKind.GeluTanh => new F32UnaryKernel<F32GeluTanh>(default, w),
        UnaryKind.Gelu => new F32UnaryKernel<F32Gelu>(default, w),
        UnaryKind.Erf => new F32UnaryKernel<F32Erf>(default, w),
        UnaryKind.Softsign => new F32UnaryKernel<F32Softsign>(default, w),
        UnaryKind.Abs => new F32UnaryKernel<F32Abs>(default, w),
        UnaryKind.Neg => new F32UnaryKernel<F32Neg>(default, w),
        UnaryKind.Sqrt => new F32UnaryKernel<F32Sqrt>(default, w),
        UnaryKind.Reciprocal => new F32UnaryKernel<F32Reciprocal>(default, w),
        _ => null,
    };

    private (double, double, double) Parameters(OpContext ctx) => kind switch
    {
        UnaryKind.LeakyRelu => (ctx.Float("alpha", 0.01f), 0, 0),
        UnaryKind.Elu => (ctx.Float("alpha", 1f), 0, 0),
        UnaryKind.Celu => (ctx.Float("alpha", 1f), 0, 0),
        UnaryKind.Selu => (ctx.Float("alpha", 1.67326319217681884765625f), 0, ctx.Float("gamma", 1.05070102214813232421875f)),
        UnaryKind.HardSigmoid => (ctx.Float("alpha", 0.2f), ctx.Float("beta", 0.5f), 0),
        UnaryKind.ThresholdedRelu => (ctx.Float("alpha", 1f), 0, 0),
        UnaryKind.Shrink => (ctx.Float("bias", 0f), ctx.Float("lambd", 0.5f), 0),
        _ => (0, 0, 0),
    };

    private readonly struct FloatFactory(UnaryKind kind, double alpha, double beta, double gamma) : IFloatKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            new UnaryKernel<FloatUnary<T>, T, T>(new FloatUnary<T>(kind, alpha, beta, gamma));
    }

    private readonly struct IntFactory(UnaryKind kind) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> =>
            new UnaryKernel<IntegerUnary<T>, T, T>(new IntegerUnary<T>(kind, T.Zero, T.Zero));
    }
}

/// <summary>Gelu (opset 20): approximate = "none" (erf) or "tanh".</summary>
public sealed class GeluOp : OpDefinition
{
    public override string OpType => "Gelu";
    public override int InPlaceInput => 0;
    public override void Infer(OpContext ctx) => ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
    public override Kernel CreateKernel(OpContext ctx) =>
        new UnaryOp("Gelu", ctx.String("approximate", "none") == "tanh" ? UnaryKind.GeluTanh : UnaryKind.Gelu).CreateKernel(ctx);
}

/// <summary>Clip: min/max attributes before opset 11, optional inputs from 11 (any numeric type).</summary>
public sealed class ClipOp : OpDefinition
{
    public override string OpType => "Clip";
    public override int InPlaceInput => 0;

    public override void Infer(OpContext ctx) => ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));

    public override Kernel CreateKernel(OpContext ctx)
    {
        double min, max;
        if (ctx.Opset < 11)
        {
            min = ctx.Float("min", float.MinValue);
            max = ctx.Float("max", float.MaxValue);
        }
        else
        {
            if ((ctx.HasInput(1) && ctx.InputConstant(1) is null) || (ctx.HasInput(2) && ctx.InputConstant(2) is null))
                return new RuntimeBoundsClipKernel(ctx.InputType(0), ctx.HasInput(1), ctx.HasInput(2), F32Elementwise.WidthOf(ctx.Isa));
            min = ctx.HasInput(1) ? ctx.InputConstant(1)!.GetAsDouble(0) : double.NegativeInfinity;
            max = ctx.HasInput(2) ? ctx.InputConstant(2)!.GetAsDouble(0) : double.PositiveInfinity;
        }
        if (ctx.InputType(0) == DataType.Float32 && F32Elementwise.WidthOf(ctx.Isa) is var w and not VectorWidth.Scalar)
            return new F32UnaryKernel<F32Clip>(new F32Clip((float)min, (float)max), w);
        return Numeric.Create(ctx.InputType(0), new Factory(min, max), ctx.Node);
    }

    private readonly struct Factory(double min, double max) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T>
        {
            T lo = double.IsNegativeInfinity(min) ? MinValue<T>() : T.CreateSaturating(min);
            T hi = double.IsPositiveInfinity(max) ? MaxValue<T>() : T.CreateSaturating(max);
            return new UnaryKernel<IntegerUnary<T>, T, T>(new IntegerUnary<T>(UnaryKind.Clip, lo, hi));
        }

        private static T MinValue<T>() where T : INumber<T> => T.CreateSaturating(double.NegativeInfinity);
        private static T MaxValue<T>() where T : INumber<T> => T.CreateSaturating(double.PositiveInfinity);
    }
}

/// <summary>Clip whose min or max is computed at run time (e.g. log-mel floors at max − 80 dB): bounds read per run.</summary>
internal sealed class RuntimeBoundsClipKernel(DataType type, bool hasMin, bool hasMax, VectorWidth width) : Kernel
{
    public override void Execute(ExecutionContext ctx)
    {
        double lo = hasMin ? ElementIO.Read(InputBytes(ctx, 1), type, 0) : double.NegativeInfinity;
        double hi = hasMax ? ElementIO.Read(InputBytes(ctx, 2), type, 0) : double.PositiveInfinity;
        if (type == DataType.Float32)
        {
            float flo = (float)lo, fhi = (float)hi;
            var x = Input<float>(ctx, 0);
            var y = Output<float>(ctx, 0);
            if (width != VectorWidth.Scalar)
            {
                F32Elementwise.Unary(new F32Clip(flo, fhi), x[..y.Length], y, width);
                return;
            }
            for (int i = 0; i < y.Length; i++) y[i] = float.IsNaN(x[i]) ? x[i] : MathF.Min(MathF.Max(x[i], flo), fhi);
            return;
        }
        var xb = InputBytes(ctx, 0);
        var yb = OutputBytes(ctx, 0);
        int n = yb.Length / type.SizeOf();
        for (int i = 0; i < n; i++) ElementIO.Write(yb, type, i, Math.Min(Math.Max(ElementIO.Read(xb, type, i), lo), hi));
    }
}

/// <summary>IsNaN, IsInf (detect_negative / detect_positive) → bool; Not over bool.</summary>
public sealed class PredicateOp(string opType) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        if (opType == "Not") ctx.ExpectType(0, DataType.Bool);
        ctx.SetOutput(0, DataType.Bool, ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx) => new PredicateKernel(opType, ctx.InputType(0),
        ctx.Int("detect_negative", 1) != 0, ctx.Int("detect_positive", 1) != 0);

    private sealed class PredicateKernel(string op, DataType type, bool negative, bool positive) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var y = Output<byte>(ctx, 0);
            for (int i = 0; i < y.Length; i++)
            {
                double v = ElementIO.Read(x, type, i);
                bool r = op switch
                {
                    "Not" => v == 0,
                    "IsNaN" => double.IsNaN(v),
                    _ => (positive && double.IsPositiveInfinity(v)) || (negative && double.IsNegativeInfinity(v)),
                };
                y[i] = r ? (byte)1 : (byte)0;
            }
        }
    }
}
