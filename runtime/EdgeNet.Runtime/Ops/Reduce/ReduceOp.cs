using System.Runtime.CompilerServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using System.Runtime.Intrinsics;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Reduce;

public enum ReduceKind { Mean, Max, Min, Sum, Prod, L1, L2, LogSum, LogSumExp, SumSquare }

/// <summary>
/// Reduce* over a set of axes. Axes are an attribute before opset 13 (ReduceSum) / 18 (the others) and an optional
/// input after; no axes = all axes unless noop_with_empty_axes. keepdims keeps reduced axes as size 1.
/// Accumulates in double; the result is written in the input's type.
/// </summary>
public sealed class ReduceOp(string opType, ReduceKind kind) : OpDefinition
{
    public override string OpType => opType;

    private int AxesInputSince => kind == ReduceKind.Sum ? 13 : 18;

    private bool[] ReducedAxes(OpContext ctx)
    {
        int rank = ctx.InputRank(0);
        long[]? axes = ctx.Opset >= AxesInputSince
            ? (ctx.HasInput(1) ? ctx.RequireConstant(1, "axes").ToInt64Array() : null)
            : ctx.Ints("axes");
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
            bool noop = ctx.Int("noop_with_empty_axes", 0) != 0;
            if (!noop) Array.Fill(reduced, true);
            return reduced;
        }
        foreach (long a in axes) reduced[Shapes.NormalizeAxis(a, rank, ctx.Node)] = true;
        return reduced;
    }

    public override void Infer(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        var reduced = ReducedAxes(ctx);
        bool keep = ctx.Int("keepdims", 1) != 0;
        var output = new List<int>();
        for (int i = 0; i < dims.Length; i++)
            if (!reduced[i]) output.Add(dims[i]);
            else if (keep) output.Add(1);
        ctx.SetOutput(0, ctx.InputType(0), output.ToArray());
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        var reduced = ReducedAxes(ctx);
        var width = F32Elementwise.WidthOf(ctx.Isa);
        if (ctx.InputType(0) == DataType.Float32 && width != VectorWidth.Scalar
            && kind is ReduceKind.Sum or ReduceKind.Mean or ReduceKind.Max or ReduceKind.Min or ReduceKind.SumSquare or ReduceKind.L2
            && ContiguousBlock(dims, reduced) is var (outer, length, inner) && length > 0)
            return new F32ReduceKernel(kind, outer, length, inner, width);
        // Output offset of every input element: strides of the kept axes, 0 on reduced ones.
        var outStrides = new int[dims.Length];
        int acc = 1;
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            if (reduced[i]) continue;
            outStrides[i] = acc;
            acc *= dims[i];
        }
        var map = new int[Shapes.Count(dims)];
        var counter = new int[dims.Length];
        int offset = 0;
        for (int e = 0; e < map.Length; e++)
        {
            map[e] = offset;
            for (int axis = dims.Length - 1; axis >= 0; axis--)
            {
                offset += outStrides[axis];
                if (++counter[axis] < dims[axis]) break;
                offset -= outStrides[axis] * counter[axis];
                counter[axis] = 0;
            }
        }
        return new ReduceKernel(kind, ctx.InputType(0), map, Shapes.Count(ctx.OutputShape(0)));
    }

    /// <summary>
    /// When the reduced axes (ignoring size-1 axes) are adjacent, the input is [outer, length, inner] and the output
    /// [outer, inner]; null otherwise.
    /// </summary>
    private static (int Outer, int Length, int Inner)? ContiguousBlock(int[] dims, bool[] reduced)
    {
        int first = -1, last = -1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == 1 || !reduced[i]) continue;
            if (first < 0) first = i;
            last = i;
        }
        int outer = 1, length = 1, inner = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == 1) continue;
            if (first >= 0 && i >= first && i <= last)
            {
                if (!reduced[i]) return null;
                length *= dims[i];
            }
            else if (first >= 0 && i > last) inner *= dims[i];
            else outer *= dims[i];
        }
        return (outer, length, inner);
    }

    /// <summary>acc + x² (sum of squares over a non-innermost axis).</summary>
    private readonly struct F32AddSquare : IF32BinaryOperator
    {
        public float Invoke(float a, float b) => a + b * b;
        public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Vector128.FusedMultiplyAdd(b, b, a);
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.FusedMultiplyAdd(b, b, a);
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.FusedMultiplyAdd(b, b, a);
    }

    /// <summary>
    /// Float32 Sum/Mean/Max/Min/SumSquare/L2 over [outer, length, inner]: rows reduced with vector accumulators when
    /// inner = 1, else whole inner rows accumulated element-wise into the output. Accumulates in float (the reference
    /// uses double); Max/Min propagate NaN as the reference does.
    /// </summary>
    private sealed class F32ReduceKernel(ReduceKind kind, int outer, int length, int inner, VectorWidth width) : Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var y = Output<float>(ctx, 0);
            if (inner == 1)
            {
                for (int o = 0; o < outer; o++)
                {
                    var row = x.Slice(o * length, length);
                    y[o] = kind switch
                    {
                        ReduceKind.Max => F32Elementwise.Max(row, width),
                        ReduceKind.Min => F32Elementwise.Min(row, width),
                        ReduceKind.Mean => F32Elementwise.Sum(row, width) / length,
                        ReduceKind.SumSquare => F32Elementwise.SumSquaredDeviation(row, 0, width),
                        ReduceKind.L2 => MathF.Sqrt(F32Elementwise.SumSquaredDeviation(row, 0, width)),
                        _ => F32Elementwise.Sum(row, width),
                    };
                }
                return;
            }
            int block = length * inner;
            for (int o = 0; o < outer; o++)
            {
                var acc = y.Slice(o * inner, inner);
                var src = x.Slice(o * block, block);
                bool squares = kind is ReduceKind.SumSquare or ReduceKind.L2;
                if (squares) F32Elementwise.Unary(new F32Square(), src[..inner], acc, width);
                else src[..inner].CopyTo(acc);
                for (int k = 1; k < length; k++)
                {
                    var slice = src.Slice(k * inner, inner);
                    switch (kind)
                    {
                        case ReduceKind.Max: F32Elementwise.Binary(new F32Max(), acc, slice, acc, width); break;
                        case ReduceKind.Min: F32Elementwise.Binary(new F32Min(), acc, slice, acc, width); break;
                        case ReduceKind.SumSquare or ReduceKind.L2: F32Elementwise.Binary(new F32AddSquare(), acc, slice, acc, width); break;
                        default: F32Elementwise.Binary(new F32Add(), acc, slice, acc, width); break;
                    }
                }
                if (kind == ReduceKind.Mean) F32Elementwise.BinaryScalarB(new F32Div(), acc, length, acc, width);
                else if (kind == ReduceKind.L2) F32Elementwise.Unary(new F32Sqrt(), acc, acc, width);
            }
        }
    }

    private sealed class ReduceKernel(ReduceKind kind, DataType type, int[] map, int outputCount) : Kernel
    {
        private readonly double[] _acc = new double[outputCount];
        private readonly int[] _count = new int[outputCount];
        private readonly double[] _aux = new double[outputCount];

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var y = OutputBytes(ctx, 0);
            double init = kind switch
            {
                ReduceKind.Max => double.NegativeInfinity,
                ReduceKind.Min => double.PositiveInfinity,
                ReduceKind.Prod => 1,
                _ => 0,
            };
            Array.Fill(_acc, init);
            Array.Clear(_count);
            if (kind == ReduceKind.LogSumExp)
            {
                // log Σ e^x = m + log Σ e^(x − m), m = the output's maximum (no overflow)
                Array.Fill(_acc, double.NegativeInfinity);
                Array.Clear(_aux);
                for (int e = 0; e < map.Length; e++) _acc[map[e]] = Math.Max(_acc[map[e]], ElementIO.Read(x, type, e));
                for (int e = 0; e < map.Length; e++) _aux[map[e]] += Math.Exp(ElementIO.Read(x, type, e) - _acc[map[e]]);
                for (int o = 0; o < outputCount; o++)
                    ElementIO.Write(y, type, o, double.IsNegativeInfinity(_acc[o]) ? _acc[o] : _acc[o] + Math.Log(_aux[o]));
                return;
            }
            for (int e = 0; e < map.Length; e++)
            {
                double v = ElementIO.Read(x, type, e);
                ref double a = ref _acc[map[e]];
                switch (kind)
                {
                    case ReduceKind.Max: if (v > a || double.IsNaN(v)) a = v; break;
                    case ReduceKind.Min: if (v < a || double.IsNaN(v)) a = v; break;
                    case ReduceKind.Prod: a *= v; break;
                    case ReduceKind.L1: a += Math.Abs(v); break;
                    case ReduceKind.L2 or ReduceKind.SumSquare: a += v * v; break;
                    default: a += v; break;
                }
                _count[map[e]]++;
            }
            for (int o = 0; o < outputCount; o++)
            {
                double a = _acc[o];
                double r = kind switch
                {
                    ReduceKind.Mean => _count[o] == 0 ? double.NaN : a / _count[o],
                    ReduceKind.L2 => Math.Sqrt(a),
                    ReduceKind.LogSum => Math.Log(a),
                    _ => a,
                };
                ElementIO.Write(y, type, o, r);
            }
        }
    }
}

/// <summary>ArgMax / ArgMin along one axis → int64 indices (first occurrence unless select_last_index).</summary>
public sealed class ArgOp(string opType, bool max) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), dims.Length, ctx.Node);
        bool keep = ctx.Int("keepdims", 1) != 0;
        var output = new List<int>();
        for (int i = 0; i < dims.Length; i++)
            if (i != axis) output.Add(dims[i]);
            else if (keep) output.Add(1);
        ctx.SetOutput(0, DataType.Int64, output.ToArray());
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), dims.Length, ctx.Node);
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= dims[i];
        for (int i = axis + 1; i < dims.Length; i++) inner *= dims[i];
        return new ArgKernel(max, ctx.Int("select_last_index", 0) != 0, ctx.InputType(0), outer, dims[axis], inner);
    }

    private sealed class ArgKernel(bool max, bool last, DataType type, int outer, int length, int inner) : Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var y = Output<long>(ctx, 0);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int best = 0;
                    double bestValue = ElementIO.Read(x, type, o * length * inner + i);
                    for (int k = 1; k < length; k++)
                    {
                        double v = ElementIO.Read(x, type, (o * length + k) * inner + i);
                        bool better = max ? (last ? v >= bestValue : v > bestValue) : (last ? v <= bestValue : v < bestValue);
                        if (better) { best = k; bestValue = v; }
                    }
                    y[o * inner + i] = best;
                }
        }
    }
}
