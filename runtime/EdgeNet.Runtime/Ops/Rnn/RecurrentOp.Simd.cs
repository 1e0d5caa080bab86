using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Rnn;

namespace EdgeNet.Ops.Rnn;

public abstract partial class RecurrentOp
{
    public sealed override Kernel CreateKernel(OpContext ctx)
    {
        var (a, g) = Prepare(ctx);
        // other activations and the scalar path run the reference kernels
        if (ctx.Isa != Isa.Scalar && F32RecurrentSimd.HandlesActivations(a, DefaultActivations) && F32RecurrentSimd.Fits(g, F32RecurrentSimd.LanesOf(ctx.Isa)))
            return SimdKernel.Create(ctx, a, g);
        return CreateReferenceKernel(ctx.Node, g, a, ctx.OutputCount);
    }

    /// <summary>The scalar reference kernel of this op (the oracle, and the path for non-default activations).</summary>
    private protected abstract Kernel CreateReferenceKernel(Node node, RnnGeometry g, RnnAttributes a, int outputs);

    /// <summary>The vectorized kernel for the session's ISA; weights are packed here when they are constants.</summary>
    private sealed class SimdKernel(Node node, RnnGeometry g, int outputs, Isa isa, RnnPackedWeights layout, float[]? packed, RnnAttributes a)
        : RecurrentKernel(node, g, outputs, F32RecurrentSimd.ScratchFloats(layout, packed is not null))
    {
        public static SimdKernel Create(OpContext ctx, RnnAttributes a, RnnGeometry g)
        {
            var layout = new RnnPackedWeights(g, F32RecurrentSimd.LanesOf(ctx.Isa), a.LinearBeforeReset, ctx.HasInput(7));
            var w = ctx.InputConstant(1);
            var r = ctx.InputConstant(2);
            var b = ctx.HasInput(3) ? ctx.InputConstant(3) : null;
            var p = ctx.HasInput(7) ? ctx.InputConstant(7) : null;
            float[]? packed = null;
            if (w is not null && r is not null && (b is not null || !ctx.HasInput(3)) && (p is not null || !ctx.HasInput(7)))
            {
                packed = new float[layout.Floats];
                layout.Pack(w.AsSpan<float>(), r.AsSpan<float>(), b is null ? default : b.AsSpan<float>(), p is null ? default : p.AsSpan<float>(), packed);
            }
            return new SimdKernel(ctx.Node, g, ctx.OutputCount, ctx.Isa, layout, packed, a);
        }

        public override void Execute(ExecutionContext ctx) => F32RecurrentSimd.Run(isa, layout, a, Tensors(ctx), packed);
    }
}
