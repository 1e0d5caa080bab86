using EdgeNet.Ops.Rnn;

namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// The tensors of one LSTM/GRU/RNN run. Missing optional inputs and outputs are empty spans.
/// Scratch holds the input projection of every time step plus the recurrent state (sizes from the kernel).
/// </summary>
public ref struct RnnTensors
{
    public ReadOnlySpan<float> X;
    public ReadOnlySpan<float> W;
    public ReadOnlySpan<float> R;
    public ReadOnlySpan<float> B;
    public ReadOnlySpan<int> SequenceLens;
    public ReadOnlySpan<float> InitialH;
    public ReadOnlySpan<float> InitialC;
    public ReadOnlySpan<float> P;
    public Span<float> Y;
    public Span<float> YH;
    public Span<float> YC;
    public Span<float> Scratch;
}

/// <summary>
/// Pieces every recurrent reference kernel shares. The run is split the way a fast kernel wants it: first the input
/// projection X·Wᵀ (+ biases) of all time steps in one pass (one big GEMM), then per time step only the recurrent
/// part H_{t−1}·Rᵀ and the gate math.
/// </summary>
public static class F32RnnCommon
{
    /// <summary>Floats of the projection buffer: one row of Gates·Hidden per (time, batch).</summary>
    public static int ProjectionFloats(RnnGeometry g) => g.SeqLength * g.Batch * g.GateRows;

    /// <summary>
    /// proj[(t·batch + b)·G·H + k] = Σᵢ X[t,b,i]·W[d,k,i] + Wb[d,k] + (k &lt; foldedRecurrentBiasRows ? Rb[d,k] : 0).
    /// Rows are time-major whatever the layout, so a time step's rows are contiguous.
    /// </summary>
    public static void Project(RnnGeometry g, int d, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int foldedRecurrentBiasRows, Span<float> proj)
    {
        int rows = g.GateRows, input = g.InputSize;
        var wd = w.Slice(d * rows * input, rows * input);
        ReadOnlySpan<float> wb = bias.IsEmpty ? default : bias.Slice(d * 2 * rows, rows);
        ReadOnlySpan<float> rb = bias.IsEmpty ? default : bias.Slice(d * 2 * rows + rows, rows);
        for (int t = 0; t < g.SeqLength; t++)
            for (int b = 0; b < g.Batch; b++)
            {
                var xRow = x.Slice(g.XOffset(t, b), input);
                var pRow = proj.Slice((t * g.Batch + b) * rows, rows);
                for (int k = 0; k < rows; k++)
                {
                    float sum = 0;
                    if (!bias.IsEmpty) sum = k < foldedRecurrentBiasRows ? wb[k] + rb[k] : wb[k];
                    var wRow = wd.Slice(k * input, input);
                    for (int i = 0; i < input; i++) sum += xRow[i] * wRow[i];
                    pRow[k] = sum;
                }
            }
    }

    /// <summary>acc[k] += Σⱼ h[j]·r[k,j] for every row k of r (rows × h.Length, row-major).</summary>
    public static void AddRecurrent(ReadOnlySpan<float> h, ReadOnlySpan<float> r, Span<float> acc)
    {
        int n = h.Length;
        for (int k = 0; k < acc.Length; k++)
        {
            var rRow = r.Slice(k * n, n);
            float sum = 0;
            for (int j = 0; j < n; j++) sum += h[j] * rRow[j];
            acc[k] += sum;
        }
    }

    /// <summary>Valid steps of batch entry b: sequence_lens[b], or the whole sequence without it.</summary>
    public static int Length(RnnGeometry g, ReadOnlySpan<int> lens, int b) => lens.IsEmpty ? g.SeqLength : lens[b];

    /// <summary>State [batch, hidden] of direction d from initial_h/initial_c, or zeros.</summary>
    public static void LoadState(RnnGeometry g, int d, ReadOnlySpan<float> initial, Span<float> state)
    {
        int h = g.HiddenSize;
        if (initial.IsEmpty) { state[..(g.Batch * h)].Clear(); return; }
        for (int b = 0; b < g.Batch; b++) initial.Slice(g.StateOffset(d, b), h).CopyTo(state.Slice(b * h, h));
    }

    /// <summary>
    /// Copies direction d's final state to Y_h/Y_c when that output exists. An entry with sequence length 0 never ran,
    /// and its final state is 0 rather than its initial state (ONNX Runtime's choice; the spec leaves it open).
    /// </summary>
    public static void StoreState(RnnGeometry g, int d, ReadOnlySpan<int> lens, ReadOnlySpan<float> state, Span<float> output)
    {
        if (output.IsEmpty) return;
        int h = g.HiddenSize;
        for (int b = 0; b < g.Batch; b++)
        {
            var dst = output.Slice(g.StateOffset(d, b), h);
            if (Length(g, lens, b) == 0) dst.Clear();
            else state.Slice(b * h, h).CopyTo(dst);
        }
    }

    /// <summary>Y is 0 at time steps past a batch entry's sequence length.</summary>
    public static void ZeroPadding(RnnGeometry g, int d, ReadOnlySpan<int> lens, Span<float> y)
    {
        if (y.IsEmpty || lens.IsEmpty) return;
        for (int b = 0; b < g.Batch; b++)
            for (int t = lens[b]; t < g.SeqLength; t++) y.Slice(g.YOffset(t, d, b), g.HiddenSize).Clear();
    }

    /// <summary>
    /// The time step batch entry b processes at step s (s-th update of its state): s forward, len−1−s in reverse,
    /// so a shorter reverse sequence starts from its own last valid step. −1 once the entry has run out.
    /// </summary>
    public static int TimeAt(int s, int length, bool reverse) => s >= length ? -1 : reverse ? length - 1 - s : s;
}
