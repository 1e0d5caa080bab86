using System.Numerics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Elementwise;

/// <summary>Add, Sub, Mul, Div, Pow, Mod, BitShift, PRelu: numpy-broadcast binary arithmetic, output type = input type.</summary>
public sealed class ArithmeticOp(string opType, ArithmeticKind kind) : OpDefinition
{
    public override string OpType => opType;
    public override int InPlaceInput => 0;

    /// <summary>Shape of input 1 as broadcast sees it: old PRelu slopes [C] apply along axis 1 of an N-D input.</summary>
    private int[] SecondShape(OpContext ctx)
    {
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        if (kind == ArithmeticKind.PRelu && b.Length == 1 && a.Length > 2 && b[0] == a[1] && b[0] != a[^1])
            return [b[0], .. Enumerable.Repeat(1, a.Length - 2)];
        return b;
    }

    public override void Infer(OpContext ctx)
    {
        var shape = Broadcast.Shape(ctx.InputShape(0), SecondShape(ctx))
            ?? throw ctx.Error($"shapes {Shapes.Format(ctx.InputShape(0))} and {Shapes.Format(ctx.InputShape(1))} do not broadcast");
        if (kind != ArithmeticKind.Pow && ctx.InputType(0) != ctx.InputType(1))
            throw ctx.Error($"input types differ ({ctx.InputType(0)}, {ctx.InputType(1)})");
        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var k = kind;
        if (kind == ArithmeticKind.Mod && ctx.Int("fmod", 0) == 1) k = ArithmeticKind.FMod;
        if (kind == ArithmeticKind.BitShiftLeft && ctx.String("direction", "LEFT") == "RIGHT") k = ArithmeticKind.BitShiftRight;
        if (kind == ArithmeticKind.Pow && ctx.InputType(0) != ctx.InputType(1)) return new PowMixedKernel(Bc(ctx), ctx.InputType(0), ctx.InputType(1));
        var activation = FusedActivation.Of(ctx.Node);
        var kernel = (ctx.InputType(0) == DataType.Float32 ? Vectorized(ctx, k) : null)
            ?? Numeric.Create(ctx.InputType(0), new Factory(k, Bc(ctx)), ctx.Node);
        return activation.Kind == ActivationKind.None ? kernel : new ActivatedKernel(kernel, activation, ctx.Isa);
    }

    /// <summary>The float32 kernel of a SIMD path, or null to use the scalar reference.</summary>
    private Kernel? Vectorized(OpContext ctx, ArithmeticKind k)
    {
        var w = F32Elementwise.WidthOf(ctx.Isa);
        if (w == VectorWidth.Scalar) return null;
        // x^2 with a constant exponent (variance, power spectra): (float)(x·x in double) is exactly x·x in float
        if (k == ArithmeticKind.Pow && ctx.InputConstant(1) is { ElementCount: 1 } e && e.GetAsDouble(0) == 2
            && ctx.InputType(1) == DataType.Float32 && Shapes.Count(ctx.OutputShape(0)) == Shapes.Count(ctx.InputShape(0)))
            return new F32UnaryKernel<F32Square>(default, w);
        var bc = Bc(ctx);
        return k switch
        {
            ArithmeticKind.Add => new F32BinaryKernel<F32Add>(default, bc, w),
            ArithmeticKind.Sub => new F32BinaryKernel<F32Sub>(default, bc, w),
            ArithmeticKind.Mul => new F32BinaryKernel<F32Mul>(default, bc, w),
            ArithmeticKind.Div => new F32BinaryKernel<F32Div>(default, bc, w),
            ArithmeticKind.Max => new F32BinaryKernel<F32Max>(default, bc, w),
            ArithmeticKind.Min => new F32BinaryKernel<F32Min>(default, bc, w),
            ArithmeticKind.PRelu => new F32BinaryKernel<F32PRelu>(default, bc, w),
            _ => null,
        };
    }

    public override long CountMacs(OpContext ctx) => Shapes.Count(ctx.OutputShape(0));

    private Broadcast Bc(OpContext ctx) => new(ctx.OutputShape(0), ctx.InputShape(0), SecondShape(ctx));

    private readonly struct Factory(ArithmeticKind kind, Broadcast bc) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> => new BinaryKernel<Arithmetic<T>, T, T>(new Arithmetic<T>(kind), bc);
    }

    /// <summary>Pow with an exponent of another type (float base, int exponent or the reverse): computed in double.</summary>
    private sealed class PowMixedKernel : Kernel
    {
        private readonly int[] _a, _b;
        private readonly DataType _ta, _tb;

        public PowMixedKernel(Broadcast bc, DataType ta, DataType tb)
        {
            _a = new int[bc.Count];
            _b = new int[bc.Count];
            bc.Offsets(0, _a);
            bc.Offsets(1, _b);
            _ta = ta;
            _tb = tb;
        }

        public override void Execute(ExecutionContext ctx)
        {
            var a = InputBytes(ctx, 0);
            var b = InputBytes(ctx, 1);
            var y = OutputBytes(ctx, 0);
            for (int i = 0; i < _a.Length; i++)
                ElementIO.Write(y, _ta, i, Math.Pow(ElementIO.Read(a, _ta, _a[i]), ElementIO.Read(b, _tb, _b[i])));
        }
    }
}

/// <summary>Equal, Greater, Less, GreaterOrEqual, LessOrEqual → bool.</summary>
public sealed class CompareOp(string opType, CompareKind kind) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        var shape = Broadcast.Shape(ctx.InputShape(0), ctx.InputShape(1))
            ?? throw ctx.Error($"shapes {Shapes.Format(ctx.InputShape(0))} and {Shapes.Format(ctx.InputShape(1))} do not broadcast");
        ctx.SetOutput(0, DataType.Bool, shape);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var bc = new Broadcast(ctx.OutputShape(0), ctx.InputShape(0), ctx.InputShape(1));
        if (ctx.InputType(0) == DataType.Bool) return new BinaryKernel<Compare<byte>, byte, byte>(new Compare<byte>(kind), bc);
        return Numeric.Create(ctx.InputType(0), new Factory(kind, bc), ctx.Node);
    }

    private readonly struct Factory(CompareKind kind, Broadcast bc) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> => new BinaryKernel<Compare<T>, T, byte>(new Compare<T>(kind), bc);
    }
}

/// <summary>And, Or, Xor over bool.</summary>
public sealed class LogicalOp(string opType, LogicalKind kind) : OpDefinition
{
    public override string OpType => opType;
    public override int InPlaceInput => 0;

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Bool);
        var shape = Broadcast.Shape(ctx.InputShape(0), ctx.InputShape(1)) ?? throw ctx.Error("shapes do not broadcast");
        ctx.SetOutput(0, DataType.Bool, shape);
    }

    public override Kernel CreateKernel(OpContext ctx) =>
        new BinaryKernel<Logical, byte, byte>(new Logical(kind), new Broadcast(ctx.OutputShape(0), ctx.InputShape(0), ctx.InputShape(1)));
}

/// <summary>Runs a kernel, then applies a fused activation to its (float) output, vectorized for the session's ISA.</summary>
public sealed class ActivatedKernel(Kernel inner, FusedActivation activation, EdgeNet.Kernels.Isa isa = EdgeNet.Kernels.Isa.Scalar) : Kernel
{
    public override void Execute(ExecutionContext ctx)
    {
        inner.InputSlots = InputSlots;
        inner.OutputSlots = OutputSlots;
        inner.Execute(ctx);
        activation.Apply(Output<float>(ctx, 0), isa);
    }
}
