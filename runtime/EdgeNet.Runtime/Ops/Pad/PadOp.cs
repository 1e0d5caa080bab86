using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Copy;

namespace EdgeNet.Ops.Pad;

/// <summary>
/// Pad: pads [x1_begin, x2_begin, ..., x1_end, ...] as attribute (before opset 11) or input, optional constant value
/// and axes (opset 18) inputs; modes constant, reflect (mirror without the edge), edge (repeat the edge), wrap.
/// Negative pads crop.
/// </summary>
public sealed class PadOp : OpDefinition
{
    public override string OpType => "Pad";

    private static (long[] Begin, long[] End) Pads(OpContext ctx)
    {
        int rank = ctx.InputRank(0);
        long[] pads = ctx.Opset < 11 ? ctx.Ints("pads") ?? ctx.Ints("paddings") ?? throw ctx.Error("missing pads") : ctx.RequireConstant(1, "pads").ToInt64Array();
        long[] axes = ctx.Opset >= 18 && ctx.HasInput(3)
            ? ctx.RequireConstant(3, "axes").ToInt64Array()
            : Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        if (pads.Length != 2 * axes.Length) throw ctx.Error($"pads has {pads.Length} values for {axes.Length} axes");
        var begin = new long[rank];
        var end = new long[rank];
        for (int k = 0; k < axes.Length; k++)
        {
            int axis = Shapes.NormalizeAxis(axes[k], rank, ctx.Node);
            begin[axis] = pads[k];
            end[axis] = pads[k + axes.Length];
        }
        return (begin, end);
    }

    public override void Infer(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        var (begin, end) = Pads(ctx);
        var dims = Shapes.FromLongs(input.Select((d, i) => d + begin[i] + end[i]).ToArray(), $"Pad node '{ctx.Node.Name}' output");
        ctx.SetOutput(0, ctx.InputType(0), dims);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var input = ctx.InputShape(0);
        var (begin, _) = Pads(ctx);
        string mode = ctx.String("mode", "constant");
        var strides = Shapes.Strides(input);
        var map = IndexMapKernel.Build(ctx.OutputShape(0), idx =>
        {
            int s = 0;
            for (int i = 0; i < idx.Length; i++)
            {
                long p = idx[i] - begin[i];
                int d = input[i];
                if (p < 0 || p >= d)
                {
                    if (mode == "constant" || d == 0) return -1;
                    p = mode switch
                    {
                        "edge" => Math.Clamp(p, 0, d - 1),
                        "wrap" => ((p % d) + d) % d,
                        "reflect" => Reflect(p, d),
                        _ => throw UnsupportedOperatorException.For(ctx.Node, $"pad mode '{mode}'"),
                    };
                }
                s += (int)p * strides[i];
            }
            return s;
        });
        byte[]? fill = null;
        if (mode == "constant")
        {
            var value = ctx.Opset < 11 ? Tensor.Scalar(ctx.Float("value", 0)) : ctx.HasInput(2) ? ctx.RequireConstant(2, "constant_value") : null;
            if (value is not null)
            {
                fill = new byte[ctx.InputType(0).SizeOf()];
                Kernels.Elementwise.ElementIO.Write(fill, ctx.InputType(0), 0, value.GetAsDouble(0));
            }
        }
        return new IndexMapKernel(map, ctx.InputType(0).SizeOf(), fill);
    }

    private static long Reflect(long p, int d)
    {
        if (d == 1) return 0;
        long period = 2L * (d - 1);
        p = ((p % period) + period) % period;
        return p < d ? p : period - p;
    }
}
