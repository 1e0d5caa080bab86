using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Quantized;
using EdgeNet.Ops.Conv;

namespace EdgeNet.Ops.Quantized;

/// <summary>
/// edgenet.QMaxPool (x): MaxPool (same attributes: kernel_shape, strides, pads, dilations, auto_pad, ceil_mode; no
/// Indices output) on uint8 / int8 data, made by <see cref="Passes.FuseQdqPassThrough"/> from DequantizeLinear →
/// MaxPool → QuantizeLinear (max commutes with the monotonic quantizer). Runs the separable vector
/// <see cref="QMaxPool"/> kernel; 1-D, 2-D and 3-D.
/// </summary>
public sealed class QMaxPoolOp : OpDefinition
{
    public override string OpType => "QMaxPool";
    public override string Domain => "edgenet";

    private static ConvGeometry Geometry(OpContext ctx)
    {
        var kernel = ConvGeometry.KernelShape(ctx) ?? throw ctx.Error("missing kernel_shape");
        var x = ctx.InputShape(0);
        if (x.Length is < 3 or > 5) throw ctx.Error($"input {Shapes.Format(x)} must be N x C x 1 to 3 spatial dims");
        return ConvGeometry.Create(ctx, x, kernel, ctx.Int("ceil_mode", 0) != 0);
    }

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.UInt8, DataType.Int8);
        var x = ctx.InputShape(0);
        var g = Geometry(ctx);
        ctx.SetOutput(0, ctx.InputType(0), [x[0], x[1], .. g.OutputSpatial()]);
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var x = ctx.InputShape(0);
        return new PoolKernel(Geometry(ctx), x[0] * x[1], ctx.InputType(0) == DataType.Int8);
    }

    private sealed unsafe class PoolKernel(ConvGeometry g, int planes, bool signed) : Kernel
    {
        public override int ScratchBytes => QMaxPool.ScratchElements(g);

        public override void Execute(ExecutionContext ctx)
        {
            fixed (byte* x = InputBytes(ctx, 0))
            fixed (byte* y = OutputBytes(ctx, 0))
            fixed (byte* row = Scratch)
            {
                if (signed) QMaxPool.Run(g, planes, (sbyte*)x, (sbyte*)y, (sbyte*)row);
                else QMaxPool.Run(g, planes, x, y, row);
            }
        }
    }
}
