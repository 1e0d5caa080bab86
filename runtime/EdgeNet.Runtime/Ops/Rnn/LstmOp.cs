using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Rnn;

namespace EdgeNet.Ops.Rnn;

/// <summary>LSTM (opsets 1–22), float32: see <see cref="F32LstmReference"/> for the math.</summary>
public sealed class LstmOp : RecurrentOp
{
    public override string OpType => "LSTM";
    protected override int Gates => 4;
    protected override RnnActivation[] DefaultActivations => [RnnActivation.Sigmoid, RnnActivation.Tanh, RnnActivation.Tanh];
    protected override bool HasCellState => true;

    private protected override Kernel CreateReferenceKernel(Node node, RnnGeometry g, RnnAttributes a, int outputs) =>
        new LstmKernel(node, g, a, outputs);

    private sealed class LstmKernel(Node node, RnnGeometry g, RnnAttributes a, int outputs)
        : RecurrentKernel(node, g, outputs, F32LstmReference.ScratchFloats(g))
    {
        public override void Execute(ExecutionContext ctx) => F32LstmReference.Run(Geometry, a, Tensors(ctx));
    }
}
