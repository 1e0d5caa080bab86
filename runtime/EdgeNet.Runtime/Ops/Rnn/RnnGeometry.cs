using EdgeNet.IR;
using EdgeNet.Kernels.Rnn;

namespace EdgeNet.Ops.Rnn;

public enum RnnDirection { Forward, Reverse, Bidirectional }

/// <summary>
/// Attributes shared by LSTM, GRU and RNN: direction, hidden_size, layout, clip and the activations (with α/β),
/// plus LSTM's input_forget and GRU's linear_before_reset.
/// </summary>
public sealed class RnnAttributes
{
    public required RnnDirection Direction { get; init; }
    public int Directions => Direction == RnnDirection.Bidirectional ? 2 : 1;
    /// <summary>hidden_size when given (it must then agree with R), else null.</summary>
    public int? HiddenSize { get; init; }
    /// <summary>layout = 1 (opset 14+): X is [batch, seq, input], Y [batch, seq, dirs, hidden], states [batch, dirs, hidden].</summary>
    public bool BatchMajor { get; init; }
    /// <summary>Cell clip threshold; +∞ when absent.</summary>
    public float Clip { get; init; } = float.PositiveInfinity;
    /// <summary>Activations of each direction, <see cref="PerDirection"/> consecutive entries per direction.</summary>
    public required RnnActivation[] Activations { get; init; }
    public int PerDirection { get; init; }
    public bool InputForget { get; init; }
    public bool LinearBeforeReset { get; init; }

    public RnnActivation Activation(int direction, int index) => Activations[direction * PerDirection + index];

    /// <summary>Whether direction slot <paramref name="d"/> runs from the last time step to the first.</summary>
    public bool IsReverse(int d) => Direction == RnnDirection.Reverse || d == 1;

    /// <summary>Reads and validates the attributes; <paramref name="defaults"/> are one direction's default activations.</summary>
    public static RnnAttributes Parse(OpContext ctx, RnnActivation[] defaults)
    {
        var direction = ctx.String("direction", "forward") switch
        {
            "forward" => RnnDirection.Forward,
            "reverse" => RnnDirection.Reverse,
            "bidirectional" => RnnDirection.Bidirectional,
            var other => throw ctx.Error($"direction '{other}' is not forward, reverse or bidirectional"),
        };
        int directions = direction == RnnDirection.Bidirectional ? 2 : 1;
        int? hidden = null;
        if (ctx.Node.HasAttribute("hidden_size"))
        {
            long h = ctx.Int("hidden_size", 0);
            if (h <= 0 || h > int.MaxValue) throw ctx.Error($"hidden_size {h} must be positive");
            hidden = (int)h;
        }
        long layout = ctx.Opset >= 14 ? ctx.Int("layout", 0) : 0;
        if (layout is not (0 or 1)) throw ctx.Error($"layout {layout} must be 0 or 1");
        float clip = float.PositiveInfinity;
        if (ctx.Node.HasAttribute("clip"))
        {
            clip = ctx.Float("clip", 0);
            if (!(clip > 0)) throw ctx.Error($"clip {clip} must be positive");
        }
        return new RnnAttributes
        {
            Direction = direction,
            HiddenSize = hidden,
            BatchMajor = layout == 1,
            Clip = clip,
            Activations = ParseActivations(ctx, defaults, directions),
            PerDirection = defaults.Length,
            InputForget = ctx.Int("input_forget", 0) != 0,
            LinearBeforeReset = ctx.Int("linear_before_reset", 0) != 0,
        };
    }

    private static RnnActivation[] ParseActivations(OpContext ctx, RnnActivation[] defaults, int directions)
    {
        var names = ctx.Node.GetStrings("activations");
        int per = defaults.Length;
        if (names is null)
        {
            var all = new RnnActivation[per * directions];
            for (int d = 0; d < directions; d++) defaults.CopyTo(all, d * per);
            return all;
        }
        // One direction's list for a bidirectional node is taken for both (ONNX Runtime accepts this too).
        if (names.Length != per * directions && !(directions == 2 && names.Length == per))
            throw ctx.Error($"activations has {names.Length} entries; {ctx.Node.OpType} needs {per} per direction ({per * directions})");
        var alphas = ctx.Floats("activation_alpha") ?? [];
        var betas = ctx.Floats("activation_beta") ?? [];
        int nextAlpha = 0, nextBeta = 0;
        var result = new RnnActivation[per * directions];
        for (int i = 0; i < result.Length; i++)
        {
            string name = names[i % names.Length];
            var kind = RnnActivation.Parse(name) ?? throw new UnsupportedOperatorException(
                $"{ctx.Node.OpType} node '{ctx.Node.Name}': activation '{name}' is not one ONNX defines for recurrent ops");
            var (alpha, beta) = RnnActivation.Defaults(kind);
            var (usesAlpha, usesBeta) = RnnActivation.Uses(kind);
            // α/β lists are consumed in activation order, one entry per activation that takes the parameter
            if (usesAlpha && nextAlpha < alphas.Length) alpha = alphas[nextAlpha++];
            if (usesBeta && nextBeta < betas.Length) beta = betas[nextBeta++];
            result[i] = new RnnActivation(kind, alpha, beta);
        }
        return result;
    }
}

/// <summary>
/// Sizes of one recurrent node and where each (time, batch) row lives in X, Y and the state tensors for either layout.
/// Gates is the number of gate blocks in W/R (LSTM 4: i,o,f,c; GRU 3: z,r,h; RNN 1).
/// </summary>
public sealed record RnnGeometry(int SeqLength, int Batch, int InputSize, int HiddenSize, int Directions, int Gates, bool BatchMajor)
{
    public int GateRows => Gates * HiddenSize;

    public int XOffset(int t, int b) => (BatchMajor ? b * SeqLength + t : t * Batch + b) * InputSize;

    public int YOffset(int t, int d, int b) => (BatchMajor ? (b * SeqLength + t) * Directions + d : (t * Directions + d) * Batch + b) * HiddenSize;

    /// <summary>Offset of (direction, batch) in initial_h/initial_c/Y_h/Y_c.</summary>
    public int StateOffset(int d, int b) => (BatchMajor ? b * Directions + d : d * Batch + b) * HiddenSize;

    public int[] YShape => BatchMajor ? [Batch, SeqLength, Directions, HiddenSize] : [SeqLength, Directions, Batch, HiddenSize];
    public int[] StateShape => BatchMajor ? [Batch, Directions, HiddenSize] : [Directions, Batch, HiddenSize];

    /// <summary>
    /// Validates X, W, R and the optional B (4), sequence_lens (4), initial_h (5), initial_c (6) and P (7) against each other.
    /// </summary>
    public static RnnGeometry Create(OpContext ctx, RnnAttributes a, int gates, bool hasCellState)
    {
        ctx.ExpectType(0, DataType.Float32);
        ctx.ExpectType(1, DataType.Float32);
        ctx.ExpectType(2, DataType.Float32);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        var r = ctx.InputShape(2);
        if (x.Length != 3) throw ctx.Error($"X {Shapes.Format(x)} must be 3-D");
        if (w.Length != 3 || r.Length != 3) throw ctx.Error($"W {Shapes.Format(w)} and R {Shapes.Format(r)} must be 3-D");
        int nd = a.Directions;
        int hidden = a.HiddenSize ?? r[2];
        if (hidden <= 0) throw ctx.Error($"hidden size {hidden} must be positive");
        int seq = a.BatchMajor ? x[1] : x[0], batch = a.BatchMajor ? x[0] : x[1], input = x[2];
        if ((long)gates * hidden > Shapes.MaxElements) throw ctx.Error($"hidden size {hidden} is too large");
        if ((long)seq * batch * gates * hidden > Shapes.MaxElements)
            throw ctx.Error($"the input projection ({seq}·{batch}·{gates * hidden} values) is larger than EdgeNet's tensor limit");
        if (w[0] != nd || w[1] != gates * hidden || w[2] != input)
            throw ctx.Error($"W {Shapes.Format(w)} must be [{nd}, {gates * hidden}, {input}] for {nd} direction(s), hidden size {hidden}, input size {input}");
        if (r[0] != nd || r[1] != gates * hidden || r[2] != hidden)
            throw ctx.Error($"R {Shapes.Format(r)} must be [{nd}, {gates * hidden}, {hidden}]");
        var g = new RnnGeometry(seq, batch, input, hidden, nd, gates, a.BatchMajor);
        if (ctx.HasInput(3))
        {
            ctx.ExpectType(3, DataType.Float32);
            if (!ctx.InputShape(3).AsSpan().SequenceEqual([nd, 2 * gates * hidden]))
                throw ctx.Error($"B {Shapes.Format(ctx.InputShape(3))} must be [{nd}, {2 * gates * hidden}]");
        }
        if (ctx.HasInput(4))
        {
            ctx.ExpectType(4, DataType.Int32);
            if (!ctx.InputShape(4).AsSpan().SequenceEqual([batch]))
                throw ctx.Error($"sequence_lens {Shapes.Format(ctx.InputShape(4))} must be [{batch}]");
        }
        for (int i = 5; i <= (hasCellState ? 6 : 5); i++)
        {
            if (!ctx.HasInput(i)) continue;
            ctx.ExpectType(i, DataType.Float32);
            if (!ctx.InputShape(i).AsSpan().SequenceEqual(g.StateShape))
                throw ctx.Error($"{(i == 5 ? "initial_h" : "initial_c")} {Shapes.Format(ctx.InputShape(i))} must be {Shapes.Format(g.StateShape)}");
        }
        if (hasCellState && ctx.HasInput(7))
        {
            ctx.ExpectType(7, DataType.Float32);
            if (!ctx.InputShape(7).AsSpan().SequenceEqual([nd, 3 * hidden]))
                throw ctx.Error($"P {Shapes.Format(ctx.InputShape(7))} must be [{nd}, {3 * hidden}]");
        }
        return g;
    }
}
