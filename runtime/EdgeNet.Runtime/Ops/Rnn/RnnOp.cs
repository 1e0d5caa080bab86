using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Rnn;

namespace EdgeNet.Ops.Rnn;

/// <summary>Simple RNN (opsets 1–22), float32: see <see cref="F32RnnReference"/> for the math.</summary>
public sealed class RnnOp : RecurrentOp
{
    public override string OpType => "RNN";
    protected override int Gates => 1;
    protected override RnnActivation[] DefaultActivations => [RnnActivation.Tanh];

    private protected override Kernel CreateReferenceKernel(Node node, RnnGeometry g, RnnAttributes a, int outputs) =>
        new RnnKernel(node, g, a, outputs);

    private sealed class RnnKernel(Node node, RnnGeometry g, RnnAttributes a, int outputs)
        : RecurrentKernel(node, g, outputs, F32RnnReference.ScratchFloats(g))
    {
        public override void Execute(ExecutionContext ctx) => F32RnnReference.Run(Geometry, a, Tensors(ctx));
    }
}
