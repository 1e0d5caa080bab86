using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Gather;

/// <summary>
/// Gather along axis: y[outer, idx..., inner] = x[outer, indices[idx...], inner]. Indices may be run-time data;
/// negative ones count from the end and out-of-range ones raise <see cref="InputMismatchException"/> (nothing allocated).
/// </summary>
public sealed class GatherOp : OpDefinition
{
    public override string OpType => "Gather";

    public override void Infer(OpContext ctx)
    {
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        ctx.ExpectType(1, DataType.Int64, DataType.Int32);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), data.Length, ctx.Node);
        var dims = data[..axis].Concat(indices).Concat(data[(axis + 1)..]).ToArray();
        ctx.SetOutput(0, ctx.InputType(0), dims);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var data = ctx.InputShape(0);
        int axis = Shapes.NormalizeAxis(ctx.Int("axis", 0), data.Length, ctx.Node);
        int outer = 1, inner = ctx.InputType(0).SizeOf();
        for (int i = 0; i < axis; i++) outer *= data[i];
        for (int i = axis + 1; i < data.Length; i++) inner *= data[i];
        return new GatherKernel(outer, data[axis], inner, Shapes.Count(ctx.InputShape(1)), ctx.InputType(1), ctx.Node.Name);
    }

    private sealed class GatherKernel(int outer, int axisSize, int inner, int count, DataType indexType, string node) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var indices = InputBytes(ctx, 1);
            var y = OutputBytes(ctx, 0);
            for (int o = 0; o < outer; o++)
                for (int k = 0; k < count; k++)
                {
                    long index = (long)ElementIO.Read(indices, indexType, k);
                    if (index < 0) index += axisSize;
                    if ((ulong)index >= (ulong)axisSize) throw new InputMismatchException($"Gather node '{node}': index {index} is out of range for size {axisSize}");
                    x.Slice((o * axisSize + (int)index) * inner, inner).CopyTo(y.Slice((o * count + k) * inner, inner));
                }
        }
    }
}
