using System.Numerics;
using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Normalization;

namespace EdgeNet.Ops.Normalization;

/// <summary>
/// MeanVarianceNormalization (opset 9/13): y = (x − E[x]) / (√(E[(x − E[x])²]) + 1e−9), mean and variance taken
/// over axes (default [0, 2, 3]: per channel of NCHW), as the ONNX function body defines it.
/// </summary>
public sealed class MvnOp : OpDefinition
{
    public override string OpType => "MeanVarianceNormalization";

    public override void Infer(OpContext ctx)
    {
        Axes(ctx);
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
    }

    private static bool[] Axes(OpContext ctx)
    {
        int rank = ctx.InputRank(0);
        var reduced = new bool[rank];
        foreach (long a in ctx.Ints("axes") ?? [0, 2, 3])
        {
            int axis = Shapes.NormalizeAxis(a, rank, ctx.Node);
            if (reduced[axis]) throw ctx.Error($"axis {a} appears twice in axes");
            reduced[axis] = true;
        }
        return reduced;
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var dims = ctx.InputShape(0);
        var reduced = Axes(ctx);
        // group[i] = the flat index of element i's coordinate on the kept axes.
        int count = Shapes.Count(dims);
        var group = new int[count];
        var coord = new int[dims.Length];
        int groups = 1, groupSize = 1;
        for (int d = 0; d < dims.Length; d++)
            if (reduced[d]) groupSize *= dims[d]; else groups *= dims[d];
        for (int i = 0; i < count; i++)
        {
            int g = 0;
            for (int d = 0; d < dims.Length; d++) if (!reduced[d]) g = g * dims[d] + coord[d];
            group[i] = g;
            for (int d = dims.Length - 1; d >= 0; d--)
            {
                if (++coord[d] < dims[d]) break;
                coord[d] = 0;
            }
        }
        return Numeric.CreateFloat(ctx.InputType(0), new Factory(group, groups, groupSize), ctx.Node);
    }

    private readonly struct Factory(int[] group, int groups, int groupSize) : IFloatKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, IFloatingPointIeee754<T> => new MvnKernel<T>(group, groups, groupSize);
    }

    private sealed class MvnKernel<T>(int[] group, int groups, int groupSize) : Kernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override int ScratchBytes => 2 * groups * sizeof(double);

        public override void Execute(ExecutionContext ctx)
        {
            var stats = MemoryMarshal.Cast<byte, double>(Scratch);
            MvnReference.Run(Input<T>(ctx, 0), Output<T>(ctx, 0), group, stats[..groups], stats.Slice(groups, groups), groupSize);
        }
    }
}
