using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Pool;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Ops.Pool;

/// <summary>
/// MaxPool (dilations, ceil_mode, optional Indices output with storage_order; float32/float64/int8/uint8) and
/// AveragePool (count_include_pad, ceil_mode, dilations; float32), 1-D to 3-D. Average divisor: with count_include_pad
/// the taps inside the padded input, otherwise the number of real input elements under the window.
/// Indices are flat offsets into the input (row-major, or column-major over the spatial dims with storage_order = 1).
/// Float32 1-D/2-D pools without Indices run the vector kernels (<see cref="F32Pool2d"/>) unless the session's ISA is
/// scalar; the loops below are the reference they are tested against.
/// </summary>
public sealed class PoolOp(string opType, bool max) : OpDefinition
{
    public override string OpType => opType;

    private static ConvGeometry Geometry(OpContext ctx)
    {
        var kernel = ConvGeometry.KernelShape(ctx) ?? throw ctx.Error("missing kernel_shape");
        var x = ctx.InputShape(0);
        if (x.Length < 3) throw ctx.Error($"input {Shapes.Format(x)} must be N x C x spatial");
        return ConvGeometry.Create(ctx, x, kernel, ctx.Int("ceil_mode", 0) != 0);
    }

    public override void Infer(OpContext ctx)
    {
        if (max) ctx.ExpectType(0, DataType.Float32, DataType.Float64, DataType.Int8, DataType.UInt8);
        else ctx.ExpectType(0, DataType.Float32);
        var x = ctx.InputShape(0);
        var g = Geometry(ctx);
        int[] dims = [x[0], x[1], .. g.OutputSpatial()];
        ctx.SetOutput(0, ctx.InputType(0), dims);
        if (ctx.OutputCount > 1) ctx.SetOutput(1, DataType.Int64, dims);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        var g = Geometry(ctx);
        int planes = x[0] * x[1];
        bool indices = ctx.OutputCount > 1;
        bool includePad = !max && ctx.Int("count_include_pad", 0) != 0;
        if (max && !indices && g.Rank <= 2 && ctx.InputType(0) == DataType.Float32 && F32MaxPoolTiled.Fits(g, ctx.Isa))
            return new TiledMaxPoolKernel(planes, g, ctx.Threads);
        if (!indices && g.Rank <= 2 && ctx.InputType(0) == DataType.Float32 && F32Pool2d.Create(ctx.Isa, g, max, includePad) is { } pool)
            return new VectorPoolKernel(planes, g, pool, ctx.Threads);
        if (!max) return new AveragePoolKernel(planes, g, includePad);
        bool columnMajor = ctx.Int("storage_order", 0) != 0;
        return ctx.InputType(0) switch
        {
            DataType.Float32 => new MaxPoolKernel<float>(planes, g, columnMajor, indices),
            DataType.Float64 => new MaxPoolKernel<double>(planes, g, columnMajor, indices),
            DataType.Int8 => new MaxPoolKernel<sbyte>(planes, g, columnMajor, indices),
            _ => new MaxPoolKernel<byte>(planes, g, columnMajor, indices),
        };
    }

    private sealed class MaxPoolKernel<T>(int planes, ConvGeometry g, bool columnMajor, bool indices) : Kernel
        where T : unmanaged, System.Numerics.INumber<T>
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<T>(ctx, 0);
            var y = Output<T>(ctx, 0);
            var idx = indices ? Output<long>(ctx, 1) : default;
            int inVolume = g.InVolume, outVolume = g.OutVolume;
            for (int p = 0; p < planes; p++)
            {
                var src = x.Slice(p * inVolume, inVolume);
                int o = p * outVolume;
                for (int od = 0; od < g.OutD; od++)
                    for (int oh = 0; oh < g.OutH; oh++)
                        for (int ow = 0; ow < g.OutW; ow++, o++)
                        {
                            int d0 = od * g.SD - g.PadFront, h0 = oh * g.SH - g.PadTop, w0 = ow * g.SW - g.PadLeft;
                            T best = default;
                            int bestD = -1, bestH = 0, bestW = 0;
                            for (int kd = 0; kd < g.KD; kd++)
                            {
                                int id = d0 + kd * g.DD;
                                if ((uint)id >= (uint)g.InD) continue;
                                for (int kh = 0; kh < g.KH; kh++)
                                {
                                    int ih = h0 + kh * g.DH;
                                    if ((uint)ih >= (uint)g.InH) continue;
                                    int row = (id * g.InH + ih) * g.InW;
                                    for (int kw = 0; kw < g.KW; kw++)
                                    {
                                        int iw = w0 + kw * g.DW;
                                        if ((uint)iw >= (uint)g.InW) continue;
                                        T v = src[row + iw];
                                        if (bestD < 0 || v > best) { best = v; bestD = id; bestH = ih; bestW = iw; }
                                    }
                                }
                            }
                            // A window entirely in the padding has no element; ceil_mode's window-dropping rule prevents it.
                            y[o] = best;
                            if (indices)
                            {
                                long flat = bestD < 0 ? 0 : columnMajor
                                    ? ((long)bestW * g.InH + bestH) * g.InD + bestD
                                    : ((long)bestD * g.InH + bestH) * g.InW + bestW;
                                idx[o] = (long)p * inVolume + flat;
                            }
                        }
            }
        }
    }

    private sealed class AveragePoolKernel(int planes, ConvGeometry g, bool includePad) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var y = Output<float>(ctx, 0);
            int inVolume = g.InVolume, outVolume = g.OutVolume;
            for (int p = 0; p < planes; p++)
            {
                var src = x.Slice(p * inVolume, inVolume);
                int o = p * outVolume;
                for (int od = 0; od < g.OutD; od++)
                    for (int oh = 0; oh < g.OutH; oh++)
                        for (int ow = 0; ow < g.OutW; ow++, o++)
                        {
                            int d0 = od * g.SD - g.PadFront, h0 = oh * g.SH - g.PadTop, w0 = ow * g.SW - g.PadLeft;
                            float sum = 0;
                            int count = 0;
                            for (int kd = 0; kd < g.KD; kd++)
                            {
                                int id = d0 + kd * g.DD;
                                if ((uint)id >= (uint)g.InD) continue;
                                for (int kh = 0; kh < g.KH; kh++)
                                {
                                    int ih = h0 + kh * g.DH;
                                    if ((uint)ih >= (uint)g.InH) continue;
                                    int row = (id * g.InH + ih) * g.InW;
                                    for (int kw = 0; kw < g.KW; kw++)
                                    {
                                        int iw = w0 + kw * g.DW;
                                        if ((uint)iw >= (uint)g.InW) continue;
                                        sum += src[row + iw];
                                        count++;
                                    }
                                }
                            }
                            int divisor = includePad
                                ? TapsInPaddedRange(d0, 0) * TapsInPaddedRange(h0, 1) * TapsInPaddedRange(w0, 2)
                                : count;
                            y[o] = divisor > 0 ? sum / divisor : 0;
                        }
            }
        }

        /// <summary>Taps of the window starting at <paramref name="start"/> that fall inside [−pad_begin, in + pad_end).</summary>
        private int TapsInPaddedRange(int start, int axis)
        {
            int lo = -g.PadBegin[axis], hi = g.In[axis] + g.PadEnd[axis], step = g.Dilations[axis], n = 0;
            for (int k = 0, pos = start; k < g.Kernel[axis]; k++, pos += step)
                if (pos >= lo && pos < hi) n++;
            return n;
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
        int planes = x[0] * x[1], size = Shapes.Count(x[2..]);
        return F32GlobalPool.Create(ctx.Isa) is { } pool && size > 0
            ? new VectorGlobalPoolKernel(max, planes, size, pool, ctx.Threads)
            : new GlobalPoolKernel(max, planes, size);
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
