using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Quantized;

/// <summary>
/// edgenet.QAdd (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp), made by <see cref="Passes.FuseQdqAdd"/> from
/// DequantizeLinear(a), DequantizeLinear(b) → Add → [Relu | Clip] → QuantizeLinear. It computes exactly the float
/// operations of that chain, per element and in the same order, so it is bit-identical to running the chain:
/// y = clamp(round_half_even(((a − a_zp)·a_scale + (b − b_zp)·b_scale) / y_scale) + y_zp, qmin, qmax), with a fused
/// Relu / Clip narrowing [qmin, qmax] (exact, the quantizer being monotonic). a and b broadcast (same shapes take
/// the vector loop); per-tensor parameters; uint8 or int8 each.
/// </summary>
public sealed class QAddOp : OpDefinition
{
    public override string OpType => "QAdd";
    public override string Domain => "edgenet";

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.UInt8, DataType.Int8);
        ctx.ExpectType(3, DataType.UInt8, DataType.Int8);
        ctx.ExpectType(7, DataType.UInt8, DataType.Int8);
        foreach (int i in (ReadOnlySpan<int>)[1, 4, 6]) { ctx.ExpectType(i, DataType.Float32); QuantInputs.Count(ctx, i, "scale"); }
        foreach (int i in (ReadOnlySpan<int>)[2, 5, 7]) QuantInputs.Count(ctx, i, "zero point");
        QuantInputs.ExpectZeroPointType(ctx, 2, ctx.InputType(0), "a_zero_point");
        QuantInputs.ExpectZeroPointType(ctx, 5, ctx.InputType(3), "b_zero_point");
        var shape = Broadcast.Shape(ctx.InputShape(0), ctx.InputShape(3))
            ?? throw ctx.Error($"operands {Shapes.Format(ctx.InputShape(0))} and {Shapes.Format(ctx.InputShape(3))} do not broadcast");
        if (!QuantInputs.Foldable(FusedActivation.Of(ctx.Node)))
            throw UnsupportedOperatorException.For(ctx.Node, $"fused activation {FusedActivation.Of(ctx.Node).Kind} cannot be applied to a requantized output");
        ctx.SetOutput(0, ctx.InputType(7), shape);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        int[]? aOffsets = null, bOffsets = null;
        var y = ctx.OutputShape(0);
        if (!ctx.InputShape(0).AsSpan().SequenceEqual(y) || !ctx.InputShape(3).AsSpan().SequenceEqual(y))
        {
            var bc = new Broadcast(y, ctx.InputShape(0), ctx.InputShape(3));
            aOffsets = new int[bc.Count];
            bOffsets = new int[bc.Count];
            bc.Offsets(0, aOffsets);
            bc.Offsets(1, bOffsets);
        }
        return new QAddKernel(ctx.InputType(0) == DataType.Int8, ctx.InputType(3) == DataType.Int8, ctx.OutputType(0), FusedActivation.Of(ctx.Node),
            ctx.Isa != Isa.Scalar, aOffsets, bOffsets);
    }

    private sealed class QAddKernel(bool aSigned, bool bSigned, DataType output, FusedActivation activation, bool vector, int[]? aOffsets, int[]? bOffsets) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var a = InputBytes(ctx, 0);
            var b = InputBytes(ctx, 3);
            var y = OutputBytes(ctx, 0);
            float sa = Input<float>(ctx, 1)[0], sb = Input<float>(ctx, 4)[0], sy = Input<float>(ctx, 6)[0];
            int za = QuantInputs.ZeroPoint(InputBytes(ctx, 2), aSigned ? DataType.Int8 : DataType.UInt8, 0);
            int zb = QuantInputs.ZeroPoint(InputBytes(ctx, 5), bSigned ? DataType.Int8 : DataType.UInt8, 0);
            int zy = QuantInputs.ZeroPoint(InputBytes(ctx, 7), output, 0);
            var (qmin, qmax) = QuantInputs.Clamp(activation, output, sy, zy);
            if (aOffsets is null || bOffsets is null)
            {
                Run(a, aSigned, za, sa, b, bSigned, zb, sb, y, sy, zy, qmin, qmax, vector);
                return;
            }
            for (int i = 0; i < y.Length; i++)
            {
                byte ra = a[aOffsets[i]], rb = b[bOffsets[i]];
                float v = ((aSigned ? (sbyte)ra : ra) - za) * sa + ((bSigned ? (sbyte)rb : rb) - zb) * sb;
                y[i] = (byte)QuantizeMath.Quantize(v, sy, zy, qmin, qmax);
            }
        }
    }

    /// <summary>The element loop (public for tests): Vector128 lanes and the scalar tail compute the same expression.</summary>
    public static void Run(ReadOnlySpan<byte> a, bool aSigned, int za, float sa, ReadOnlySpan<byte> b, bool bSigned, int zb, float sb,
        Span<byte> y, float sy, int zy, int qmin, int qmax, bool vector)
    {
        int n = y.Length, i = 0;
        if (vector && Avx2.IsSupported && n >= 16) i = Run256(a, aSigned, za, sa, b, bSigned, zb, sb, y, sy, zy, qmin, qmax);
        if (vector && Vector128.IsHardwareAccelerated)
        {
            ref byte ar = ref MemoryMarshal.GetReference(a);
            ref byte br = ref MemoryMarshal.GetReference(b);
            ref byte yr = ref MemoryMarshal.GetReference(y);
            // signed data: raw ^ 0x80 is the value + 128, so the zero point moves by 128 too
            var vza = Vector128.Create(aSigned ? za + 128 : za);
            var vzb = Vector128.Create(bSigned ? zb + 128 : zb);
            var va = Vector128.Create(sa);
            var vb = Vector128.Create(sb);
            var vsy = Vector128.Create(sy);
            var vzy = Vector128.Create((float)zy);
            var lo = Vector128.Create((float)qmin);
            var hi = Vector128.Create((float)qmax);
            var flipA = Vector128.Create(aSigned ? (byte)0x80 : (byte)0);
            var flipB = Vector128.Create(bSigned ? (byte)0x80 : (byte)0);
            for (; i <= n - 16; i += 16)
            {
                var (a0, a1) = Vector128.Widen(Vector128.LoadUnsafe(ref ar, (nuint)i) ^ flipA);
                var (b0, b1) = Vector128.Widen(Vector128.LoadUnsafe(ref br, (nuint)i) ^ flipB);
                var q0 = Half8(a0, b0, vza, vzb, va, vb, vsy, vzy, lo, hi);
                var q1 = Half8(a1, b1, vza, vzb, va, vb, vsy, vzy, lo, hi);
                Vector128.Narrow(q0, q1).AsByte().StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            int av = aSigned ? (sbyte)a[i] : a[i], bv = bSigned ? (sbyte)b[i] : b[i];
            float v = (av - za) * sa + (bv - zb) * sb;
            y[i] = (byte)QuantizeMath.Quantize(v, sy, zy, qmin, qmax);
        }
    }

    /// <summary>16 elements per step in 256-bit lanes (the expression of <see cref="Lanes"/>); returns the count done.</summary>
    private static unsafe int Run256(ReadOnlySpan<byte> a, bool aSigned, int za, float sa, ReadOnlySpan<byte> b, bool bSigned, int zb, float sb,
        Span<byte> y, float sy, int zy, int qmin, int qmax)
    {
        int n = y.Length, i = 0;
        var vza = Vector256.Create(aSigned ? za + 128 : za);
        var vzb = Vector256.Create(bSigned ? zb + 128 : zb);
        var va = Vector256.Create(sa);
        var vb = Vector256.Create(sb);
        var vsy = Vector256.Create(sy);
        var vzy = Vector256.Create((float)zy);
        var lo = Vector256.Create((float)qmin);
        var hi = Vector256.Create((float)qmax);
        var flipA = Vector128.Create(aSigned ? (byte)0x80 : (byte)0);
        var flipB = Vector128.Create(bSigned ? (byte)0x80 : (byte)0);
        fixed (byte* ap = a)
        fixed (byte* bp = b)
        fixed (byte* yp = y)
            for (; i <= n - 16; i += 16)
            {
                var ra = Vector128.Load(ap + i) ^ flipA;
                var rb = Vector128.Load(bp + i) ^ flipB;
                var q0 = Lanes256(Avx2.ConvertToVector256Int32(ra), Avx2.ConvertToVector256Int32(rb), vza, vzb, va, vb, vsy, vzy, lo, hi);
                var q1 = Lanes256(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(ra, 8)), Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(rb, 8)),
                    vza, vzb, va, vb, vsy, vzy, lo, hi);
                // in-range values: the saturating packs are exact; int16 lanes back in order, then bytes
                var w16 = Avx2.Permute4x64(Avx2.PackSignedSaturate(q0, q1).AsInt64(), 0b11_01_10_00).AsInt16();
                var bytes = qmin < 0
                    ? Sse2.PackSignedSaturate(w16.GetLower(), w16.GetUpper()).AsByte()
                    : Sse2.PackUnsignedSaturate(w16.GetLower(), w16.GetUpper());
                bytes.Store(yp + i);
            }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes256(Vector256<int> a, Vector256<int> b, Vector256<int> za, Vector256<int> zb, Vector256<float> sa, Vector256<float> sb,
        Vector256<float> sy, Vector256<float> zy, Vector256<float> lo, Vector256<float> hi)
    {
        var fa = Vector256.ConvertToSingle(a - za) * sa;
        var fb = Vector256.ConvertToSingle(b - zb) * sb;
        var r = Avx.RoundToNearestInteger(Avx.Divide(fa + fb, sy)) + zy;
        // maxps returns its second operand when the first is NaN: NaN lanes become qmin, as in the scalar form; the
        // clamped values are integers, so the truncating conversion is exact
        return Avx.ConvertToVector256Int32WithTruncation(Avx.Min(Avx.Max(r, lo), hi));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Half8(Vector128<ushort> a, Vector128<ushort> b, Vector128<int> za, Vector128<int> zb, Vector128<float> sa, Vector128<float> sb,
        Vector128<float> sy, Vector128<float> zy, Vector128<float> lo, Vector128<float> hi)
    {
        var (a0, a1) = Vector128.Widen(a);
        var (b0, b1) = Vector128.Widen(b);
        var q0 = Lanes(a0.AsInt32(), b0.AsInt32(), za, zb, sa, sb, sy, zy, lo, hi);
        var q1 = Lanes(a1.AsInt32(), b1.AsInt32(), za, zb, sa, sb, sy, zy, lo, hi);
        return Vector128.Narrow(q0, q1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Lanes(Vector128<int> a, Vector128<int> b, Vector128<int> za, Vector128<int> zb, Vector128<float> sa, Vector128<float> sb,
        Vector128<float> sy, Vector128<float> zy, Vector128<float> lo, Vector128<float> hi)
    {
        // (a − za)·sa + (b − zb)·sb as two roundings and an add, like the scalar form (no fused multiply-add)
        var fa = Vector128.ConvertToSingle(a - za) * sa;
        var fb = Vector128.ConvertToSingle(b - zb) * sb;
        var r = Vector128.Round((fa + fb) / sy) + zy;
        r = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(r, lo), r, lo);
        r = Vector128.ConditionalSelect(Vector128.GreaterThan(r, hi), hi, r);
        return Vector128.ConvertToInt32(r);
    }
}
