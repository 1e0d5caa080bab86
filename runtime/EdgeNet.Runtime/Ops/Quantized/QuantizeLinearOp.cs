using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;

namespace EdgeNet.Ops.Quantized;

/// <summary>
/// QuantizeLinear (opsets 10–21): y = saturate(round_half_to_even(x / y_scale) + y_zero_point), per tensor or per
/// axis (opset ≥ 13). Output type: the zero point's (uint8 / int8), else output_dtype (opset 21), else uint8.
/// Scales and zero points are read when the kernel runs, so they may be runtime inputs.
/// </summary>
public sealed class QuantizeLinearOp : OpDefinition
{
    public override string OpType => "QuantizeLinear";

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        ctx.ExpectType(1, DataType.Float32);
        var output = DataType.UInt8;
        if (ctx.HasInput(2))
        {
            ctx.ExpectType(2, DataType.UInt8, DataType.Int8);
            output = ctx.InputType(2);
        }
        else if (ctx.Int("output_dtype", 0) is var code and not 0)
        {
            output = (DataType)code;
            if (output is not (DataType.UInt8 or DataType.Int8))
                throw UnsupportedOperatorException.For(ctx.Node, $"output_dtype {code} is not supported (uint8 and int8 are)");
        }
        if (ctx.Int("saturate", 1) != 1) throw UnsupportedOperatorException.For(ctx.Node, "saturate=0 applies to float8 outputs only, which are not supported");
        QuantAxis.Of(ctx, ctx.InputShape(0), 1, 2);
        ctx.SetOutput(0, output, ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var (qmin, qmax) = QuantizeMath.Range(ctx.OutputType(0));
        return new QuantizeKernel(QuantAxis.Of(ctx, ctx.InputShape(0), 1, 2), ctx.HasInput(2), ctx.OutputType(0) == DataType.Int8, qmin, qmax, ctx.Isa != Isa.Scalar);
    }

    private sealed class QuantizeKernel(QuantAxis layout, bool hasZeroPoint, bool signed, int qmin, int qmax, bool vector) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var scales = Input<float>(ctx, 1);
            var zps = hasZeroPoint ? InputBytes(ctx, 2) : default;
            var y = OutputBytes(ctx, 0);
            int inner = layout.Inner, at = 0;
            for (int o = 0; o < layout.Outer; o++)
                for (int c = 0; c < layout.Channels; c++, at += inner)
                {
                    int zp = !hasZeroPoint ? 0 : signed ? (sbyte)zps[c] : zps[c];
                    QuantizeMath.Quantize(x.Slice(at, inner), scales[c], zp, qmin, qmax, y.Slice(at, inner), vector);
                }
        }
    }
}

/// <summary>
/// DequantizeLinear (opsets 10–21): y = (x − x_zero_point) · x_scale for uint8 / int8 / int32 x (int32 with zero
/// point 0), per tensor or per axis (opset ≥ 13), float32 output.
/// </summary>
public sealed class DequantizeLinearOp : OpDefinition
{
    public override string OpType => "DequantizeLinear";

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.UInt8, DataType.Int8, DataType.Int32);
        ctx.ExpectType(1, DataType.Float32);
        if (ctx.HasInput(2) && ctx.InputType(2) != ctx.InputType(0))
            throw ctx.Error($"zero point type {ctx.InputType(2)} differs from the data type {ctx.InputType(0)}");
        QuantAxis.Of(ctx, ctx.InputShape(0), 1, 2);
        ctx.SetOutput(0, DataType.Float32, ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx) =>
        new DequantizeKernel(QuantAxis.Of(ctx, ctx.InputShape(0), 1, 2), ctx.HasInput(2), ctx.InputType(0), ctx.Isa != Isa.Scalar);

    private sealed class DequantizeKernel(QuantAxis layout, bool hasZeroPoint, DataType type, bool vector) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var scales = Input<float>(ctx, 1);
            var y = Output<float>(ctx, 0);
            int inner = layout.Inner, at = 0;
            for (int o = 0; o < layout.Outer; o++)
                for (int c = 0; c < layout.Channels; c++, at += inner)
                {
                    float scale = scales[c];
                    switch (type)
                    {
                        case DataType.UInt8:
                            QuantizeMath.Dequantize(InputBytes(ctx, 0).Slice(at, inner), hasZeroPoint ? InputBytes(ctx, 2)[c] : 0, scale, y.Slice(at, inner), vector);
                            break;
                        case DataType.Int8:
                            QuantizeMath.Dequantize(Input<sbyte>(ctx, 0).Slice(at, inner), hasZeroPoint ? Input<sbyte>(ctx, 2)[c] : 0, scale, y.Slice(at, inner), vector);
                            break;
                        default:
                        {
                            var x = Input<int>(ctx, 0).Slice(at, inner);
                            int zp = hasZeroPoint ? Input<int>(ctx, 2)[c] : 0;
                            var yc = y.Slice(at, inner);
                            for (int i = 0; i < yc.Length; i++) yc[i] = (float)(x[i] - zp) * scale;
                            break;
                        }
                    }
                }
        }
    }
}

/// <summary>
/// DynamicQuantizeLinear (opset 11): uint8 quantization with parameters from the data, as the spec's function body
/// computes them: lo = min(0, min x), hi = max(0, max x), y_scale = (hi − lo) / 255,
/// y_zero_point = round(clamp(0 − lo / y_scale, 0, 255)), y = saturate(round(x / y_scale) + y_zero_point).
/// All-zero (or empty) x gives scale 0; then zero point and y are 0 (the division would be 0/0).
/// </summary>
public sealed class DynamicQuantizeLinearOp : OpDefinition
{
    public override string OpType => "DynamicQuantizeLinear";

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        ctx.SetOutput(0, DataType.UInt8, ctx.InputShape(0));
        ctx.SetOutput(1, DataType.Float32, []);
        ctx.SetOutput(2, DataType.UInt8, []);
    }

    public override Kernel CreateKernel(OpContext ctx) => new DynamicQuantizeKernel(ctx.Isa != Isa.Scalar);

    private sealed class DynamicQuantizeKernel(bool vector) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            float lo = 0, hi = 0;
            foreach (float v in x)
            {
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            float scale = (hi - lo) / 255f;
            int zp = 0;
            if (scale > 0)
            {
                float initial = 0f - lo / scale;
                zp = (int)MathF.Round(Math.Clamp(initial, 0f, 255f));
            }
            Output<float>(ctx, 1)[0] = scale;
            OutputBytes(ctx, 2)[0] = (byte)zp;
            var y = OutputBytes(ctx, 0);
            if (scale > 0) QuantizeMath.Quantize(x, scale, zp, 0, 255, y, vector);
            else y.Clear();
        }
    }
}
