using System.Runtime.Intrinsics;
using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Ops.Quantized;

/// <summary>
/// edgenet.QLookup (x, table): y[i] = table[raw byte of x[i]], a 256-entry table of the output type (uint8 or int8)
/// indexed by x's stored byte (an int8 value v is entry (byte)v). <see cref="Passes.FuseQdqActivation"/> builds the
/// table from DequantizeLinear → f → QuantizeLinear for any element-wise f by evaluating the chain on all 256 inputs,
/// so the table is the chain itself.
/// </summary>
public sealed class QLookupOp : OpDefinition
{
    public override string OpType => "QLookup";
    public override string Domain => "edgenet";

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.UInt8, DataType.Int8);
        ctx.ExpectType(1, DataType.UInt8, DataType.Int8);
        if (ctx.InputFacts(1).ElementCount != 256) throw ctx.Error($"table has {ctx.InputFacts(1).ElementCount} entries, expected 256");
        ctx.SetOutput(0, ctx.InputType(1), ctx.InputShape(0));
    }

    public override int InPlaceInput => 0;

    public override Kernel CreateKernel(OpContext ctx) => new LookupKernel();

    private sealed class LookupKernel : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var table = InputBytes(ctx, 1)[..256];
            var y = OutputBytes(ctx, 0);
            for (int i = 0; i < y.Length; i++) y[i] = table[x[i]];
        }
    }
}

/// <summary>
/// edgenet.QGlobalAveragePool (x, x_scale, x_zp, y_scale, y_zp), made by <see cref="Passes.FuseQdqPool"/> from
/// DequantizeLinear → GlobalAveragePool → QuantizeLinear: per (n, c) plane of P values, the exact integer sum
/// S = Σ (x − x_zp), then y = clamp(round_half_even(((float)S · x_scale / P) / y_scale) + y_zp). The float chain sums
/// P rounded products instead of one exact sum, so the two can differ by one step when the mean lies within float
/// rounding of a rounding boundary.
/// </summary>
public sealed class QGlobalAveragePoolOp : OpDefinition
{
    public override string OpType => "QGlobalAveragePool";
    public override string Domain => "edgenet";

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.UInt8, DataType.Int8);
        ctx.ExpectType(4, DataType.UInt8, DataType.Int8);
        foreach (int i in (ReadOnlySpan<int>)[1, 3]) { ctx.ExpectType(i, DataType.Float32); QuantInputs.Count(ctx, i, "scale"); }
        foreach (int i in (ReadOnlySpan<int>)[2, 4]) QuantInputs.Count(ctx, i, "zero point");
        QuantInputs.ExpectZeroPointType(ctx, 2, ctx.InputType(0), "x_zero_point");
        var x = ctx.InputShape(0);
        if (x.Length < 3) throw ctx.Error($"input {Shapes.Format(x)} needs at least one spatial dim");
        ctx.SetOutput(0, ctx.InputType(4), [x[0], x[1], .. Enumerable.Repeat(1, x.Length - 2)]);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        return new PoolKernel(x[0] * x[1], Shapes.Count(x.AsSpan(2)), ctx.InputType(0) == DataType.Int8, ctx.OutputType(0));
    }

    private sealed class PoolKernel(int planes, int plane, bool signed, DataType output) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var y = OutputBytes(ctx, 0);
            float sx = Input<float>(ctx, 1)[0], sy = Input<float>(ctx, 3)[0];
            int zx = QuantInputs.ZeroPoint(InputBytes(ctx, 2), signed ? DataType.Int8 : DataType.UInt8, 0);
            int zy = QuantInputs.ZeroPoint(InputBytes(ctx, 4), output, 0);
            var (qmin, qmax) = QuantizeMath.Range(output);
            for (int p = 0; p < planes; p++)
            {
                long sum = PlaneSum(x.Slice(p * plane, plane), signed);
                float mean = (float)(sum - (long)plane * zx) * sx / plane;
                y[p] = (byte)QuantizeMath.Quantize(mean, sy, zy, qmin, qmax);
            }
        }
    }

    /// <summary>Exact Σ of a plane's values (uint8, or int8 as raw ^ 0x80 minus 128 each): vpsadbw 32 bytes at a time, then 16.</summary>
    internal static unsafe long PlaneSum(ReadOnlySpan<byte> row, bool signed)
    {
        long sum = 0;
        int i = 0;
        byte flip = signed ? (byte)0x80 : (byte)0;
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && row.Length >= 32)
        {
            var acc = System.Runtime.Intrinsics.Vector256<ulong>.Zero;
            var vf = System.Runtime.Intrinsics.Vector256.Create(flip);
            var zero = System.Runtime.Intrinsics.Vector256<byte>.Zero;
            fixed (byte* r = row)
                for (; i + 32 <= row.Length; i += 32)
                    acc += System.Runtime.Intrinsics.X86.Avx2.SumAbsoluteDifferences(System.Runtime.Intrinsics.Vector256.Load(r + i) ^ vf, zero).AsUInt64();
            sum = (long)System.Runtime.Intrinsics.Vector256.Sum(acc);
        }
        if (System.Runtime.Intrinsics.X86.Sse2.IsSupported && i + 16 <= row.Length)
        {
            // a 16-byte step for planes like 7×7 = 32 + 16 + 1
            fixed (byte* r = row)
                sum += (long)System.Runtime.Intrinsics.Vector128.Sum(System.Runtime.Intrinsics.X86.Sse2.SumAbsoluteDifferences(
                    System.Runtime.Intrinsics.Vector128.Load(r + i) ^ System.Runtime.Intrinsics.Vector128.Create(flip), System.Runtime.Intrinsics.Vector128<byte>.Zero).AsUInt64());
            i += 16;
        }
        for (; i < row.Length; i++) sum += row[i] ^ flip;
        return signed ? sum - 128L * row.Length : sum;
    }
}
