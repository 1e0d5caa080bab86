using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Rnn;

namespace EdgeNet.Ops.Rnn;

/// <summary>
/// What LSTM, GRU and RNN share: inputs X, W, R, B, sequence_lens, initial_h (LSTM adds initial_c, P), outputs
/// Y [seq, dirs, batch, hidden] and Y_h [dirs, batch, hidden] (LSTM adds Y_c), batch-major with layout = 1.
/// </summary>
public abstract partial class RecurrentOp : OpDefinition
{
    /// <summary>Gate blocks in W and R: LSTM 4, GRU 3, RNN 1.</summary>
    protected abstract int Gates { get; }
    /// <summary>One direction's default activations; their count is how many the op takes per direction.</summary>
    protected abstract RnnActivation[] DefaultActivations { get; }
    /// <summary>LSTM's cell state: input initial_c (6), P (7) and output Y_c (2).</summary>
    protected virtual bool HasCellState => false;

    private protected (RnnAttributes Attributes, RnnGeometry Geometry) Prepare(OpContext ctx)
    {
        int maxInputs = HasCellState ? 8 : 6, maxOutputs = HasCellState ? 3 : 2;
        if (ctx.InputCount > maxInputs) throw ctx.Error($"{ctx.InputCount} inputs; {OpType} takes at most {maxInputs}");
        if (ctx.OutputCount > maxOutputs) throw ctx.Error($"{ctx.OutputCount} outputs; {OpType} has at most {maxOutputs}");
        var a = RnnAttributes.Parse(ctx, DefaultActivations);
        return (a, RnnGeometry.Create(ctx, a, Gates, HasCellState));
    }

    public override void Infer(OpContext ctx)
    {
        var (_, g) = Prepare(ctx);
        for (int i = 0; i < ctx.OutputCount; i++) ctx.SetOutput(i, DataType.Float32, i == 0 ? g.YShape : g.StateShape);
    }

    public override long CountMacs(OpContext ctx)
    {
        var (_, g) = Prepare(ctx);
        return (long)g.SeqLength * g.Batch * g.Directions * g.GateRows * (g.InputSize + g.HiddenSize);
    }

    /// <summary>Gathers the run's tensors; missing optional inputs/outputs stay empty. Rejects sequence_lens out of range.</summary>
    private protected abstract class RecurrentKernel(Node node, RnnGeometry geometry, int outputCount, int scratchFloats) : Kernel
    {
        protected RnnGeometry Geometry { get; } = geometry;

        public override int ScratchBytes => scratchFloats * sizeof(float);

        protected RnnTensors Tensors(ExecutionContext ctx)
        {
            var t = new RnnTensors
            {
                X = Input<float>(ctx, 0),
                W = Input<float>(ctx, 1),
                R = Input<float>(ctx, 2),
                B = HasInput(3) ? Input<float>(ctx, 3) : default,
                SequenceLens = HasInput(4) ? Input<int>(ctx, 4) : default,
                InitialH = HasInput(5) ? Input<float>(ctx, 5) : default,
                InitialC = HasInput(6) ? Input<float>(ctx, 6) : default,
                P = HasInput(7) ? Input<float>(ctx, 7) : default,
                Y = outputCount > 0 ? Output<float>(ctx, 0) : default,
                YH = outputCount > 1 ? Output<float>(ctx, 1) : default,
                YC = outputCount > 2 ? Output<float>(ctx, 2) : default,
                Scratch = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Scratch),
            };
            for (int b = 0; b < t.SequenceLens.Length; b++)
                if ((uint)t.SequenceLens[b] > (uint)Geometry.SeqLength) throw BadLength(b, t.SequenceLens[b]);
            return t;
        }

        private InputMismatchException BadLength(int b, int value) =>
            new($"{node.OpType} node '{node.Name}': sequence_lens[{b}] = {value} is outside [0, {Geometry.SeqLength}]");
    }
}
