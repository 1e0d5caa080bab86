using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Quantized;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Ops.Quantized;

/// <summary>
/// QLinearConv (opset 10) and ConvInteger (opset 10), 1-D and 2-D, NCHW, groups (depthwise included), pads / strides /
/// dilations / auto_pad, on the int8-kernels' <see cref="QConv2d"/>:
/// <list type="bullet">
/// <item>ConvInteger: y = Σ (x − x_zp)(w − w_zp[m]) as int32;</item>
/// <item>QLinearConv: acc = Σ (x − x_zp)(w − w_zp[m]) + B[m], y = clamp(round_half_even((float)acc · M[m]) + y_zp,
///       qmin, qmax) with M[m] = x_scale · w_scale[m] / y_scale in float32 (the contract's requantization). A fused
///       Relu / Clip (edgenet.activation, set by the QDQ folding pass) narrows [qmin, qmax];</item>
/// <item>edgenet.QConv (made by the QDQ folding pass from DequantizeLinear → Conv whose output stays float):
///       QLinearConv's inputs 0–5 and the int32 bias (input 8), inputs 6 / 7 (y_scale, y_zero_point) absent, float32
///       output y = (float)acc · (x_scale · w_scale[m]) then the fused Relu / Clip in float.</item>
/// </list>
/// x and y are uint8 or int8 (int8 read with the +128 shift inside the kernel), w uint8 or int8, zero points per
/// tensor (x, y) and per tensor or per output channel (w). Constant weights are packed once; weights only known at
/// run time go through the direct reference loop. Scales are read each run (they may be runtime inputs).
/// </summary>
public sealed class QLinearConvOp(bool linear, bool dequantize = false) : OpDefinition
{
    public override string OpType => dequantize ? "QConv" : linear ? "QLinearConv" : "ConvInteger";
    public override string Domain => dequantize ? "edgenet" : "";

    private bool Linear => linear;
    private int W => linear ? 3 : 1;
    private static int XZeroPoint => 2;
    private int WZeroPoint => linear ? 5 : 3;

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.UInt8, DataType.Int8);
        ctx.ExpectType(W, DataType.UInt8, DataType.Int8);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(W);
        if (x.Length is < 3 or > 4 || w.Length != x.Length)
            throw x.Length == 5 && w.Length == 5
                ? UnsupportedOperatorException.For(ctx.Node, "3-D integer convolution is not supported")
                : ctx.Error($"input {Shapes.Format(x)} and weights {Shapes.Format(w)} ranks do not fit a 1-D or 2-D convolution");
        int group = (int)ctx.Int("group", 1);
        if (group <= 0 || x[1] % group != 0 || w[0] % group != 0 || w[1] * group != x[1])
            throw ctx.Error($"channels {x[1]} and weights {Shapes.Format(w)} do not fit group {group}");
        QuantInputs.ExpectZeroPointType(ctx, XZeroPoint, ctx.InputType(0), "x_zero_point");
        QuantInputs.ExpectZeroPointType(ctx, WZeroPoint, ctx.InputType(W), "w_zero_point");
        QuantInputs.Count(ctx, XZeroPoint, "x_zero_point");
        QuantInputs.Count(ctx, WZeroPoint, "w_zero_point", w[0]);
        var output = DataType.Int32;
        if (linear)
        {
            ctx.ExpectType(1, DataType.Float32);
            ctx.ExpectType(4, DataType.Float32);
            QuantInputs.Count(ctx, 1, "x_scale");
            QuantInputs.Count(ctx, 4, "w_scale", w[0]);
            if (dequantize)
            {
                if (ctx.HasInput(6) || ctx.HasInput(7)) throw ctx.Error("edgenet.QConv has a float output: y_scale / y_zero_point must be absent");
            }
            else
            {
                ctx.ExpectType(6, DataType.Float32);
                ctx.ExpectType(7, DataType.UInt8, DataType.Int8);
                QuantInputs.Count(ctx, 6, "y_scale");
                QuantInputs.Count(ctx, 7, "y_zero_point");
            }
            if (ctx.HasInput(8))
            {
                ctx.ExpectType(8, DataType.Int32);
                if (Shapes.Count(ctx.InputShape(8)) != w[0]) throw ctx.Error("bias length differs from output channels");
            }
            output = dequantize ? DataType.Float32 : ctx.InputType(7);
            if (!dequantize && !QuantInputs.Foldable(FusedActivation.Of(ctx.Node)))
                throw UnsupportedOperatorException.For(ctx.Node, $"fused activation {FusedActivation.Of(ctx.Node).Kind} cannot be applied to a requantized output");
        }
        var g = Geometry(ctx);
        if (!g.Kernel.AsSpan(ConvGeometry.MaxRank - g.Rank).SequenceEqual(w.AsSpan(2)))
            throw ctx.Error($"kernel_shape differs from the weights {Shapes.Format(w)}");
        ctx.SetOutput(0, output, [x[0], w[0], .. g.OutputSpatial()]);
    }

    private ConvGeometry Geometry(OpContext ctx) =>
        ConvGeometry.Create(ctx, ctx.InputShape(0), ConvGeometry.KernelShape(ctx) ?? ctx.InputShape(W)[2..]);

    public override long CountMacs(OpContext ctx) => (long)Shapes.Count(ctx.OutputShape(0)) * Shapes.Count(ctx.InputShape(W).AsSpan(1));

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(W);
        var g = Geometry(ctx);
        var shape = new QConv2dShape(x[0], x[1], g.InH, g.InW, w[0], g.KH, g.KW, (int)ctx.Int("group", 1),
            g.SH, g.SW, g.PadTop, g.PadLeft, g.PadEnd[1], g.PadEnd[2], g.DH, g.DW);
        var kind = ctx.OutputType(0) switch { DataType.UInt8 => QOutputKind.UInt8, DataType.Int8 => QOutputKind.Int8, DataType.Float32 => QOutputKind.Float32, _ => QOutputKind.Int32 };
        bool xSigned = ctx.InputType(0) == DataType.Int8, wSigned = ctx.InputType(W) == DataType.Int8;
        QConv2d? packed = null;
        if (ctx.InputConstant(W) is { } weights && QuantInputs.ConstantZeroPoints(ctx, WZeroPoint) is { } wzp)
            // an absent zero point is 0 in the weights' own domain (spelled out: the kernels read "none" for uint8 as 128)
            packed = new QConv2d(QVariants.For(ctx.Isa), shape, weights.Data.Span, wSigned, wzp.Length == 0 ? [0] : wzp, xSigned, kind, ctx.Threads,
                vector512: ctx.Isa == EdgeNet.Kernels.Isa.Avx512);
        var kernel = new QConvKernel(this, shape, packed, kind, xSigned, wSigned, ctx.InputType(W), ctx.HasInput(XZeroPoint), ctx.HasInput(WZeroPoint),
            linear && ctx.HasInput(8), linear ? ctx.OutputType(0) : DataType.Int32, FusedActivation.Of(ctx.Node));
        // constant scales (every QDQ / QLinearConv model): the per-channel multipliers once, not on every run
        if (linear && ctx.InputConstant(1) is { } xs && ctx.InputConstant(4) is { } ws && (kind == QOutputKind.Float32 || ctx.InputConstant(6) is not null))
            kernel.FixMultipliers(xs.AsSpan<float>()[0], ws.AsSpan<float>(), kind == QOutputKind.Float32 ? 0f : ctx.InputConstant(6)!.AsSpan<float>()[0]);
        return kernel;
    }

    private sealed unsafe class QConvKernel(QLinearConvOp op, QConv2dShape shape, QConv2d? packed, QOutputKind kind, bool xSigned, bool wSigned,
        DataType wType, bool hasXZeroPoint, bool hasWZeroPoint, bool hasBias, DataType output, FusedActivation activation) : Kernel
    {
        private readonly float[] _multipliers = new float[shape.OutChannels];
        private readonly int[] _weightZeroPoints = new int[shape.OutChannels];
        private bool _fixedMultipliers;

        /// <summary>Computes the multipliers from constant scales once (the run computes them the same way otherwise).</summary>
        internal void FixMultipliers(float xs, ReadOnlySpan<float> ws, float ys)
        {
            ComputeMultipliers(xs, ws, ys);
            _fixedMultipliers = true;
        }

        private void ComputeMultipliers(float xs, ReadOnlySpan<float> ws, float ys)
        {
            if (kind == QOutputKind.Float32)
                for (int m = 0; m < ws.Length; m++) _multipliers[m] = xs * ws[m];
            else
                for (int m = 0; m < ws.Length; m++) _multipliers[m] = QMath.Multiplier(xs, ws[m], ys);
        }

        public override int ScratchBytes => packed?.ScratchBytes ?? 0;

        public override void Execute(ExecutionContext ctx)
        {
            int xzp = hasXZeroPoint ? QuantInputs.ZeroPoint(InputBytes(ctx, XZeroPoint), xSigned ? DataType.Int8 : DataType.UInt8, 0) : 0;
            var e = default(QEpilogue);
            if (op.Linear)
            {
                var ws = Input<float>(ctx, 4);
                e.MultiplierStride = ws.Length == 1 ? 0 : 1;
                if (!_fixedMultipliers) ComputeMultipliers(Input<float>(ctx, 1)[0], ws, kind == QOutputKind.Float32 ? 0f : Input<float>(ctx, 6)[0]);
                if (kind != QOutputKind.Float32)
                {
                    float ys = Input<float>(ctx, 6)[0];
                    int yzp = QuantInputs.ZeroPoint(InputBytes(ctx, 7), output, 0);
                    var (qmin, qmax) = QuantInputs.Clamp(activation, output, ys, yzp);
                    e.ZeroPoint = yzp;
                    e.QMin = qmin;
                    e.QMax = qmax;
                }
            }
            fixed (byte* xp = InputBytes(ctx, 0))
            fixed (byte* yp = OutputBytes(ctx, 0))
            fixed (byte* scratch = Scratch)
            fixed (float* mult = _multipliers)
            fixed (int* wzp = _weightZeroPoints)
            fixed (byte* bias = hasBias ? InputBytes(ctx, 8) : default)
            {
                e.Multiplier = op.Linear ? mult : null;
                e.Bias = (int*)bias;
                if (packed is not null) packed.Run(ctx, xp, xzp, yp, e, scratch);
                else RunReference(ctx, xp, xzp, wzp, yp, e);
                if (kind == QOutputKind.Float32 && activation.Kind != ActivationKind.None)
                    activation.Apply(new Span<float>(yp, OutputBytes(ctx, 0).Length / sizeof(float)));
            }
        }

        private void RunReference(ExecutionContext ctx, byte* xp, int xzp, int* wzp, byte* yp, in QEpilogue e)
        {
            var zps = hasWZeroPoint ? InputBytes(ctx, op.WZeroPoint) : default;
            int count = hasWZeroPoint ? zps.Length : 0;
            for (int m = 0; m < count; m++) wzp[m] = QuantInputs.ZeroPoint(zps, wType, m);
            fixed (byte* wp = InputBytes(ctx, op.W))
                QConv2dReference.Run(shape, xp, xSigned, xzp, wp, wSigned, hasWZeroPoint ? wzp : null, count > 1 ? 1 : 0, kind, yp, e);
        }
    }
}
