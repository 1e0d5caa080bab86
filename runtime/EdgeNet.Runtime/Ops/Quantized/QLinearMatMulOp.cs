using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Elementwise;
using EdgeNet.Kernels.Quantized;

namespace EdgeNet.Ops.Quantized;

/// <summary>Which integer matrix product a <see cref="QLinearMatMulOp"/> is.</summary>
public enum QMatMulKind
{
    /// <summary>ONNX QLinearMatMul: requantized uint8 / int8 output.</summary>
    QLinearMatMul,
    /// <summary>ONNX MatMulInteger: exact int32 output.</summary>
    MatMulInteger,
    /// <summary>
    /// edgenet.QGemm, made by the QDQ folding pass from DequantizeLinear → Gemm → QuantizeLinear: QLinearMatMul's
    /// inputs plus an int32 bias (input 8, scale a_scale · b_scale[n]) and transB; B is 2-D, A of rank ≥ 2 (its leading
    /// dims are more rows). Without y_scale /
    /// y_zero_point (inputs 6, 7 absent) the output is float32: y = (float)(acc + bias) · a_scale · b_scale[n].
    /// </summary>
    QGemm,
}

/// <summary>
/// QLinearMatMul, MatMulInteger (opset 10) and edgenet.QGemm on the int8-kernels' <see cref="QGemm"/>:
/// acc[m, n] = Σ_k (a − a_zp)(b − b_zp[n]) exactly in int32; QLinearMatMul / QGemm then requantize,
/// y = clamp(round_half_even((float)acc · M[n]) + y_zp, qmin, qmax), M[n] = a_scale · b_scale[n] / y_scale in float32.
/// Batch dims broadcast as in MatMul (rank ≥ 2 operands). A constant 2-D B is packed once and the whole batch of A
/// rows is one GEMM; any other B (batched, or known only at run time) goes through the reference loop per batch.
/// Zero points: a per tensor, b per tensor or per column.
/// </summary>
public sealed class QLinearMatMulOp(QMatMulKind kind) : OpDefinition
{
    public override string OpType => kind switch { QMatMulKind.QLinearMatMul => "QLinearMatMul", QMatMulKind.MatMulInteger => "MatMulInteger", _ => "QGemm" };
    public override string Domain => kind == QMatMulKind.QGemm ? "edgenet" : "";

    private bool Linear => kind != QMatMulKind.MatMulInteger;
    private int B => Linear ? 3 : 1;
    private int BZeroPoint => Linear ? 5 : 3;
    private bool TransB(OpContext ctx) => kind == QMatMulKind.QGemm && ctx.Int("transB", 0) != 0;
    private bool FloatOutput(OpContext ctx) => kind == QMatMulKind.QGemm && !ctx.HasInput(6);

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.UInt8, DataType.Int8);
        ctx.ExpectType(B, DataType.UInt8, DataType.Int8);
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(B);
        if (a.Length < 2 || b.Length < 2)
            throw UnsupportedOperatorException.For(ctx.Node, "1-D operands are not supported (rank 2 and up are)");
        if (kind == QMatMulKind.QGemm && b.Length != 2) throw ctx.Error("QGemm weights must be 2-D");
        if (kind == QMatMulKind.QGemm && ctx.Int("transA", 0) != 0) throw UnsupportedOperatorException.For(ctx.Node, "transA is not supported");
        bool transB = TransB(ctx);
        int k = a[^1], kb = transB ? b[^1] : b[^2], n = transB ? b[^2] : b[^1];
        if (k != kb) throw ctx.Error($"inner dims differ: {Shapes.Format(a)} × {Shapes.Format(b)}");
        var batch = Broadcast.Shape(a[..^2], b[..^2]) ?? throw ctx.Error($"batch dims of {Shapes.Format(a)} and {Shapes.Format(b)} do not broadcast");
        QuantInputs.ExpectZeroPointType(ctx, 2, ctx.InputType(0), "a_zero_point");
        QuantInputs.ExpectZeroPointType(ctx, BZeroPoint, ctx.InputType(B), "b_zero_point");
        QuantInputs.Count(ctx, 2, "a_zero_point");
        QuantInputs.Count(ctx, BZeroPoint, "b_zero_point", n);
        var output = DataType.Int32;
        if (Linear)
        {
            ctx.ExpectType(1, DataType.Float32);
            ctx.ExpectType(4, DataType.Float32);
            QuantInputs.Count(ctx, 1, "a_scale");
            QuantInputs.Count(ctx, 4, "b_scale", n);
            if (FloatOutput(ctx))
            {
                if (ctx.HasInput(7)) throw ctx.Error("y_zero_point without y_scale");
                output = DataType.Float32;
            }
            else
            {
                ctx.ExpectType(6, DataType.Float32);
                ctx.ExpectType(7, DataType.UInt8, DataType.Int8);
                QuantInputs.Count(ctx, 6, "y_scale");
                QuantInputs.Count(ctx, 7, "y_zero_point");
                output = ctx.InputType(7);
            }
            var activation = FusedActivation.Of(ctx.Node);
            if (output != DataType.Float32 && !QuantInputs.Foldable(activation))
                throw UnsupportedOperatorException.For(ctx.Node, $"fused activation {activation.Kind} cannot be applied to a requantized output");
        }
        if (kind == QMatMulKind.QGemm && ctx.HasInput(8))
        {
            ctx.ExpectType(8, DataType.Int32);
            if (Shapes.Count(ctx.InputShape(8)) != n) throw ctx.Error($"bias has {Shapes.Count(ctx.InputShape(8))} values for {n} columns");
        }
        ctx.SetOutput(0, output, [.. batch, a[^2], n]);
    }

    public override long CountMacs(OpContext ctx) => (long)Shapes.Count(ctx.OutputShape(0)) * ctx.InputShape(0)[^1];

    public override Kernel CreateKernel(OpContext ctx)
    {
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(B);
        var y = ctx.OutputShape(0);
        bool transB = TransB(ctx);
        int m = a[^2], k = a[^1], n = y[^1];
        var outKind = ctx.OutputType(0) switch
        {
            DataType.UInt8 => QOutputKind.UInt8, DataType.Int8 => QOutputKind.Int8, DataType.Float32 => QOutputKind.Float32, _ => QOutputKind.Int32,
        };
        bool aSigned = ctx.InputType(0) == DataType.Int8, bSigned = ctx.InputType(B) == DataType.Int8;
        var batch = y[..^2];
        int batches = Shapes.Count(batch);
        var aOffsets = new int[batches];
        var bOffsets = new int[batches];
        var bc = new Broadcast(batch, a[..^2], b[..^2]);
        bc.Offsets(0, aOffsets);
        bc.Offsets(1, bOffsets);
        QGemm? gemm = null;
        if (b.Length == 2 && ctx.InputConstant(B) is { } weights && QuantInputs.ConstantZeroPoints(ctx, BZeroPoint) is { } zps && m * batches > 0)
        {
            if (zps.Length == 0) zps = [0];
            var variant = QVariants.For(ctx.Isa);
            QPackedWeights packed;
            unsafe
            {
                fixed (byte* w = weights.Data.Span)
                    packed = transB
                        ? QPackedWeights.Pack(variant, QGemmOrientation.WeightsRight, w, bSigned, n, k, k, 1, zps)
                        : QPackedWeights.Pack(variant, QGemmOrientation.WeightsRight, w, bSigned, n, k, 1, n, zps);
            }
            // A's batch dims are contiguous rows: the whole batch is one M = batches · m GEMM
            gemm = new QGemm(packed, batches * m, aSigned, outKind, ctx.Threads);
        }
        return new QMatMulKernel(this, gemm, outKind, m, k, n, transB, aSigned, bSigned, ctx.InputType(B), aOffsets, bOffsets,
            ctx.HasInput(2), ctx.HasInput(BZeroPoint), kind == QMatMulKind.QGemm && ctx.HasInput(8), ctx.OutputType(0), FusedActivation.Of(ctx.Node));
    }

    private sealed unsafe class QMatMulKernel(QLinearMatMulOp op, QGemm? gemm, QOutputKind outKind, int m, int k, int n, bool transB,
        bool aSigned, bool bSigned, DataType bType, int[] aOffsets, int[] bOffsets, bool hasAZeroPoint, bool hasBZeroPoint, bool hasBias,
        DataType output, FusedActivation activation) : Kernel
    {
        private readonly float[] _multipliers = new float[n];
        private readonly int[] _weightZeroPoints = new int[n];

        public override int ScratchBytes => gemm?.ScratchBytes ?? 0;

        public override void Execute(ExecutionContext ctx)
        {
            int azp = hasAZeroPoint ? QuantInputs.ZeroPoint(InputBytes(ctx, 2), aSigned ? DataType.Int8 : DataType.UInt8, 0) : 0;
            var e = default(QEpilogue);
            bool floatOut = outKind == QOutputKind.Float32;
            if (op.Linear)
            {
                float sa = Input<float>(ctx, 1)[0];
                float ys = floatOut ? 1 : Input<float>(ctx, 6)[0];
                var sb = Input<float>(ctx, 4);
                for (int j = 0; j < sb.Length; j++) _multipliers[j] = floatOut ? sa * sb[j] : QMath.Multiplier(sa, sb[j], ys);
                e.MultiplierStride = sb.Length == 1 ? 0 : 1;
                if (!floatOut)
                {
                    int yzp = QuantInputs.ZeroPoint(InputBytes(ctx, 7), output, 0);
                    (e.QMin, e.QMax) = QuantInputs.Clamp(activation, output, ys, yzp);
                    e.ZeroPoint = yzp;
                }
            }
            int outBytes = outKind is QOutputKind.UInt8 or QOutputKind.Int8 ? 1 : 4;
            fixed (byte* ap = InputBytes(ctx, 0))
            fixed (byte* yp = OutputBytes(ctx, 0))
            fixed (byte* scratch = Scratch)
            fixed (float* mult = _multipliers)
            fixed (int* wzp = _weightZeroPoints)
            fixed (byte* bias = hasBias ? InputBytes(ctx, 8) : default)
            {
                e.Multiplier = op.Linear ? mult : null;
                e.Bias = (int*)bias;
                if (gemm is not null) gemm.Run(ctx, ap, k, azp, yp, n, e, scratch);
                else
                {
                    var zps = hasBZeroPoint ? InputBytes(ctx, op.BZeroPoint) : default;
                    int count = hasBZeroPoint ? zps.Length : 0;
                    for (int j = 0; j < count; j++) wzp[j] = QuantInputs.ZeroPoint(zps, bType, j);
                    fixed (byte* bp = InputBytes(ctx, op.B))
                        for (int t = 0; t < aOffsets.Length; t++)
                            QGemmReference.Run(QGemmOrientation.WeightsRight, m, n, k,
                                ap + (nint)aOffsets[t] * m * k, k, 1, aSigned, azp,
                                bp + (nint)bOffsets[t] * k * n, transB ? k : 1, transB ? 1 : n, bSigned, hasBZeroPoint ? wzp : null, count > 1 ? 1 : 0,
                                outKind, yp + (nint)t * m * n * outBytes, n, e);
                }
                if (floatOut && activation.Kind != ActivationKind.None)
                    activation.Apply(new Span<float>(yp, aOffsets.Length * m * n));
            }
        }
    }
}
