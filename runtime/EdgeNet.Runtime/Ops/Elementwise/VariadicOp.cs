using System.Numerics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Elementwise;

/// <summary>Max, Min, Sum, Mean over any number of broadcast inputs: y = op(op(x0, x1), x2) ...; Mean divides by the count.</summary>
public sealed class VariadicOp(string opType, ArithmeticKind kind, bool mean = false) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        var shapes = new int[ctx.InputCount][];
        for (int i = 0; i < shapes.Length; i++) shapes[i] = ctx.InputShape(i);
        var shape = Broadcast.Shape(shapes) ?? throw ctx.Error("input shapes do not broadcast");
        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var output = ctx.OutputShape(0);
        var steps = new Broadcast[ctx.InputCount];
        steps[0] = new Broadcast(output, output, ctx.InputShape(0));
        for (int i = 1; i < steps.Length; i++) steps[i] = new Broadcast(output, output, ctx.InputShape(i));
        var width = F32Elementwise.WidthOf(ctx.Isa);
        if (ctx.InputType(0) == DataType.Float32 && width != VectorWidth.Scalar && kind is ArithmeticKind.Add or ArithmeticKind.Max or ArithmeticKind.Min)
            return new F32VariadicKernel(kind, mean, steps, width);
        return Numeric.Create(ctx.InputType(0), new Factory(kind, mean, steps), ctx.Node);
    }

    private readonly struct Factory(ArithmeticKind kind, bool mean, Broadcast[] steps) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> => new VariadicKernel<T>(kind, mean, steps);
    }

    private sealed class VariadicKernel<T>(ArithmeticKind kind, bool mean, Broadcast[] steps) : Kernel where T : unmanaged, INumber<T>
    {
        private readonly int[] _rows = new int[2];

        public override void Execute(ExecutionContext ctx)
        {
            var y = Output<T>(ctx, 0);
            // y = broadcast(x0): (0 + x0) with the "take b" trick would need a second op; copy via Add on zeros instead.
            y.Clear();
            BinaryKernel<Arithmetic<T>, T, T>.Run(new Arithmetic<T>(ArithmeticKind.Add), steps[0], y, Input<T>(ctx, 0), y, _rows);
            for (int i = 1; i < steps.Length; i++)
                BinaryKernel<Arithmetic<T>, T, T>.Run(new Arithmetic<T>(kind), steps[i], y, Input<T>(ctx, i), y, _rows);
            if (mean)
            {
                T n = T.CreateTruncating(steps.Length);
                for (int i = 0; i < y.Length; i++) y[i] /= n;
            }
        }
    }
}

/// <summary>Float32 Sum/Mean/Max/Min folded input by input with the vectorized broadcast blocks (same order as the reference).</summary>
internal sealed class F32VariadicKernel(ArithmeticKind kind, bool mean, Broadcast[] steps, VectorWidth width) : Kernel
{
    private readonly F32BroadcastPlan[] _plans = steps.Select(s => new F32BroadcastPlan(s)).ToArray();

    public override void Execute(ExecutionContext ctx)
    {
        var y = Output<float>(ctx, 0);
        y.Clear();
        _plans[0].Run(new F32Add(), y, Input<float>(ctx, 0), y, width);
        for (int i = 1; i < _plans.Length; i++)
        {
            var x = Input<float>(ctx, i);
            switch (kind)
            {
                case ArithmeticKind.Max: _plans[i].Run(new F32Max(), y, x, y, width); break;
                case ArithmeticKind.Min: _plans[i].Run(new F32Min(), y, x, y, width); break;
                default: _plans[i].Run(new F32Add(), y, x, y, width); break;
            }
        }
        if (mean) F32Elementwise.BinaryScalarB(new F32Div(), y, _plans.Length, y, width);
    }
}

/// <summary>Where(cond, x, y) with three-way broadcasting.</summary>
public sealed class WhereOp : OpDefinition
{
    public override string OpType => "Where";

    public override void Infer(OpContext ctx)
    {
        var shape = Broadcast.Shape(ctx.InputShape(0), ctx.InputShape(1), ctx.InputShape(2)) ?? throw ctx.Error("input shapes do not broadcast");
        ctx.SetOutput(0, ctx.InputType(1), shape);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var output = ctx.OutputShape(0);
        var bc = new Broadcast(output, ctx.InputShape(0), ctx.InputShape(1), ctx.InputShape(2));
        return new WhereKernel(bc, ctx.InputType(1).SizeOf());
    }

    private sealed class WhereKernel : Kernel
    {
        private readonly int[] _c, _x, _y;
        private readonly int _size;

        public WhereKernel(Broadcast bc, int size)
        {
            _c = new int[bc.Count]; _x = new int[bc.Count]; _y = new int[bc.Count];
            bc.Offsets(0, _c); bc.Offsets(1, _x); bc.Offsets(2, _y);
            _size = size;
        }

        public override void Execute(ExecutionContext ctx)
        {
            var c = InputBytes(ctx, 0);
            var x = InputBytes(ctx, 1);
            var y = InputBytes(ctx, 2);
            var o = OutputBytes(ctx, 0);
            for (int i = 0; i < _c.Length; i++)
            {
                var src = c[_c[i]] != 0 ? x.Slice(_x[i] * _size, _size) : y.Slice(_y[i] * _size, _size);
                src.CopyTo(o.Slice(i * _size, _size));
            }
        }
    }
}
