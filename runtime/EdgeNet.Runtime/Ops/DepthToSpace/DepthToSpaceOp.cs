using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Copy;

namespace EdgeNet.Ops.DepthToSpace;

/// <summary>
/// DepthToSpace (any element type, N×C×H×W → N×C/b²×H·b×W·b) with blocksize b:
/// DCR mode (default): y[n, c, h·b + i, w·b + j] = x[n, (i·b + j)·C/b² + c, h, w];
/// CRD mode:           y[n, c, h·b + i, w·b + j] = x[n, c·b² + i·b + j, h, w].
/// </summary>
public sealed class DepthToSpaceOp : OpDefinition
{
    public override string OpType => "DepthToSpace";

    /// <summary>Largest blocksize: its square must fit an int.</summary>
    internal const long MaxBlock = 46340;

    private static (int Block, bool Crd) Attributes(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        if (x.Length != 4) throw ctx.Error($"input {Shapes.Format(x)} must be N x C x H x W");
        long b = ctx.Int("blocksize", 0);
        if (b <= 0 || b > MaxBlock || x[1] % (b * b) != 0) throw ctx.Error($"blocksize {b} must be positive with its square dividing the channels {x[1]}");
        string mode = ctx.String("mode", "DCR");
        if (mode is not ("DCR" or "CRD")) throw ctx.Error($"unknown mode '{mode}'");
        return ((int)b, mode == "CRD");
    }

    public override void Infer(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        var (b, _) = Attributes(ctx);
        ctx.SetOutput(0, ctx.InputType(0), Shapes.FromLongs([x[0], x[1] / (b * b), (long)x[2] * b, (long)x[3] * b], $"DepthToSpace node '{ctx.Node.Name}' output"));
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        var (b, crd) = Attributes(ctx);
        int outC = x[1] / (b * b), h = x[2], w = x[3];
        var map = IndexMapKernel.Build(ctx.OutputShape(0), idx =>
        {
            int n = idx[0], c = idx[1], i = idx[2] % b, j = idx[3] % b;
            int inC = crd ? c * b * b + i * b + j : (i * b + j) * outC + c;
            return ((n * x[1] + inC) * h + idx[2] / b) * w + idx[3] / b;
        });
        return new IndexMapKernel(map, ctx.InputType(0).SizeOf());
    }
}

/// <summary>
/// SpaceToDepth (any element type, N×C×H×W → N×C·b²×H/b×W/b), the inverse of DepthToSpace in DCR mode:
/// y[n, (i·b + j)·C + c, h, w] = x[n, c, h·b + i, w·b + j].
/// </summary>
public sealed class SpaceToDepthOp : OpDefinition
{
    public override string OpType => "SpaceToDepth";

    private static int Block(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        if (x.Length != 4) throw ctx.Error($"input {Shapes.Format(x)} must be N x C x H x W");
        long b = ctx.Int("blocksize", 0);
        if (b <= 0 || b > DepthToSpaceOp.MaxBlock || x[2] % b != 0 || x[3] % b != 0) throw ctx.Error($"blocksize {b} must be positive and divide H {x[2]} and W {x[3]}");
        return (int)b;
    }

    public override void Infer(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        int b = Block(ctx);
        ctx.SetOutput(0, ctx.InputType(0), Shapes.FromLongs([x[0], (long)x[1] * b * b, x[2] / b, x[3] / b], $"SpaceToDepth node '{ctx.Node.Name}' output"));
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        int b = Block(ctx);
        int c = x[1], h = x[2], w = x[3];
        var map = IndexMapKernel.Build(ctx.OutputShape(0), idx =>
        {
            int block = idx[1] / c, inC = idx[1] % c, i = block / b, j = block % b;
            return ((idx[0] * c + inC) * h + idx[2] * b + i) * w + idx[3] * b + j;
        });
        return new IndexMapKernel(map, ctx.InputType(0).SizeOf());
    }
}
