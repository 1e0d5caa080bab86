using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Ops.Pool;

/// <summary>
/// MaxPool (dilations, ceil_mode, optional Indices output with storage_order) and AveragePool (count_include_pad,
/// ceil_mode), 1-D and 2-D, float32. Average divisor: with count_include_pad the window clipped to the padded input,
/// otherwise the number of real input elements under the window.
/// </summary>
public sealed class PoolOp(string opType, bool max) : OpDefinition
{
    public override string OpType => opType;

    private static ConvGeometry Geometry(OpContext ctx)
    {
        var kernel = ctx.Ints("kernel_shape")?.Select(k => (int)k).ToArray() ?? throw ctx.Error("missing kernel_shape");
        return ConvGeometry.Create(ctx, ctx.InputShape(0), kernel, ctx.Int("ceil_mode", 0) != 0);
    }

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        var x = ctx.InputShape(0);
        var g = Geometry(ctx);
        int[] dims = [x[0], x[1], .. g.OutputSpatial(x.Length - 2)];
        ctx.SetOutput(0, DataType.Float32, dims);
        if (ctx.OutputCount > 1) ctx.SetOutput(1, DataType.Int64, dims);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        if (!max && ctx.Ints("dilations") is { } d && d.Any(v => v != 1)) throw UnsupportedOperatorException.For(ctx.Node, "AveragePool with dilations");
        return new PoolKernel(max, x[0] * x[1], Geometry(ctx), ctx.Int("count_include_pad", 0) != 0, ctx.Int("storage_order", 0) != 0, ctx.OutputCount > 1);
    }

    private sealed class PoolKernel(bool max, int planes, ConvGeometry g, bool includePad, bool columnMajor, bool indices) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var y = Output<float>(ctx, 0);
            var idx = indices ? Output<long>(ctx, 1) : default;
            int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
            int paddedH = g.InH + g.PadTop + g.PadBottom, paddedW = g.InW + g.PadLeft + g.PadRight;
            for (int p = 0; p < planes; p++)
            {
                var src = x.Slice(p * inPlane, inPlane);
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        int h0 = oh * g.SH - g.PadTop, w0 = ow * g.SW - g.PadLeft;
                        float best = float.NegativeInfinity, sum = 0;
                        int bestAt = -1, count = 0;
                        for (int kh = 0; kh < g.KH; kh++)
                        {
                            int ih = h0 + kh * g.DH;
                            if ((uint)ih >= (uint)g.InH) continue;
                            for (int kw = 0; kw < g.KW; kw++)
                            {
                                int iw = w0 + kw * g.DW;
                                if ((uint)iw >= (uint)g.InW) continue;
                                float v = src[ih * g.InW + iw];
                                if (v > best || bestAt < 0) { best = v; bestAt = ih * g.InW + iw; }
                                sum += v;
                                count++;
                            }
                        }
                        int o = p * outPlane + oh * g.OutW + ow;
                        if (max)
                        {
                            y[o] = best;
                            if (indices)
                            {
                                int bh = bestAt / g.InW, bw = bestAt % g.InW;
                                idx[o] = (long)p * inPlane + (columnMajor ? bw * g.InH + bh : bestAt);
                            }
                        }
                        else
                        {
                            int divisor = count;
                            if (includePad)
                            {
                                int hs = Math.Max(h0, -g.PadTop), he = Math.Min(h0 + g.KH, paddedH - g.PadTop);
                                int ws = Math.Max(w0, -g.PadLeft), we = Math.Min(w0 + g.KW, paddedW - g.PadLeft);
                                divisor = (he - hs) * (we - ws);
                            }
                            y[o] = divisor > 0 ? sum / divisor : 0;
                        }
                    }
            }
        }
    }
}

/// <summary>GlobalAveragePool / GlobalMaxPool: one value per (n, c) plane, spatial dims become 1.</summary>
public sealed class GlobalPoolOp(string opType, bool max) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        var x = ctx.InputShape(0);
        if (x.Length < 3) throw ctx.Error("input must be N x C x spatial");
        ctx.SetOutput(0, DataType.Float32, [x[0], x[1], .. Enumerable.Repeat(1, x.Length - 2)]);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        return new GlobalPoolKernel(max, x[0] * x[1], Shapes.Count(x[2..]));
    }

    private sealed class GlobalPoolKernel(bool max, int planes, int size) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var y = Output<float>(ctx, 0);
            for (int p = 0; p < planes; p++)
            {
                var plane = x.Slice(p * size, size);
                if (max)
                {
                    float m = float.NegativeInfinity;
                    foreach (float v in plane) m = MathF.Max(m, v);
                    y[p] = m;
                }
                else
                {
                    float s = 0;
                    foreach (float v in plane) s += v;
                    y[p] = s / size;
                }
            }
        }
    }
}
