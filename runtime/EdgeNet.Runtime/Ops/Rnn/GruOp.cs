using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Rnn;

namespace EdgeNet.Ops.Rnn;

/// <summary>GRU (opsets 1–22, linear_before_reset from opset 3), float32: see <see cref="F32GruReference"/> for the math.</summary>
public sealed class GruOp : RecurrentOp
{
    public override string OpType => "GRU";
    protected override int Gates => 3;
    protected override RnnActivation[] DefaultActivations => [RnnActivation.Sigmoid, RnnActivation.Tanh];

    private protected override Kernel CreateReferenceKernel(Node node, RnnGeometry g, RnnAttributes a, int outputs) =>
        new GruKernel(node, g, a, outputs);

    private sealed class GruKernel(Node node, RnnGeometry g, RnnAttributes a, int outputs)
        : RecurrentKernel(node, g, outputs, F32GruReference.ScratchFloats(g))
    {
        public override void Execute(ExecutionContext ctx) => F32GruReference.Run(Geometry, a, Tensors(ctx));
    }
}
