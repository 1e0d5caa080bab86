using EdgeNet.Ops.Rnn;

namespace EdgeNet.Kernels.Rnn;

/// <summary>
/// Where the packed weights of one recurrent node live for one lane width, per direction d at <see cref="Direction"/>(d):
/// W (all gates, <see cref="F32RnnGemm"/> layout), R (LSTM and RNN: all gates; GRU: z and r, then h apart because with
/// linear_before_reset = 0 its product needs rₜ first), the bias row [gates·Hp] (Wb + Rb, except GRU's Rb_h under
/// linear_before_reset, which gets its own row since rₜ multiplies it), and LSTM's peepholes [3·Hp] (i, o, f, gate-major).
/// Padding lanes are zero everywhere, so padded units compute exact zeros and never disturb real ones.
/// </summary>
internal sealed class RnnPackedWeights
{
    public RnnPackedWeights(RnnGeometry g, int lanes, bool linearBeforeReset, bool peepholes)
    {
        Geometry = g;
        Lanes = lanes;
        Hp = F32RnnGemm.PaddedHidden(g.HiddenSize, lanes);
        IsGru = g.Gates == 3;
        LinearBeforeReset = IsGru && linearBeforeReset;
        Peepholes = g.Gates == 4 && peepholes;
        UnitBlocks = g.Gates == F32RnnGemm.PanelVectors;
        int h = g.HiddenSize;
        int offset = 0;
        W = offset; offset += F32RnnGemm.PackedFloats(g.Gates, h, g.InputSize, lanes);
        R = offset; offset += F32RnnGemm.PackedFloats(IsGru ? 2 : g.Gates, h, h, lanes);
        RHidden = offset; offset += IsGru ? F32RnnGemm.PackedFloats(1, h, h, lanes) : 0;
        Bias = offset; offset += g.Gates * Hp;
        RecurrentHiddenBias = offset; offset += LinearBeforeReset ? Hp : 0;
        P = offset; offset += Peepholes ? 3 * Hp : 0;
        DirectionFloats = offset;
    }

    public RnnGeometry Geometry { get; }
    public int Lanes { get; }
    /// <summary>Hidden size rounded up to the lane count.</summary>
    public int Hp { get; }
    public bool IsGru { get; }
    public bool LinearBeforeReset { get; }
    public bool Peepholes { get; }
    /// <summary>W, R and the bias row in <see cref="F32RnnGemm.Column"/>'s unit-block order (LSTM), else gate-major.</summary>
    public bool UnitBlocks { get; }
    public int W { get; }
    public int R { get; }
    public int RHidden { get; }
    public int Bias { get; }
    public int RecurrentHiddenBias { get; }
    public int P { get; }
    public int DirectionFloats { get; }
    public int Floats => Geometry.Directions * DirectionFloats;

    public int Direction(int d) => d * DirectionFloats;

    /// <summary>Packs W, R and the optional B and P (empty spans when absent) into <paramref name="dst"/>.</summary>
    public void Pack(ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> b, ReadOnlySpan<float> p, Span<float> dst)
    {
        var g = Geometry;
        int h = g.HiddenSize, rows = g.GateRows, input = g.InputSize;
        dst[..Floats].Clear();
        for (int d = 0; d < g.Directions; d++)
        {
            var o = dst.Slice(Direction(d), DirectionFloats);
            var wd = w.Slice(d * rows * input, rows * input);
            var rd = r.Slice(d * rows * h, rows * h);
            F32RnnGemm.Pack(wd, 0, g.Gates, h, input, Lanes, UnitBlocks, o[W..]);
            F32RnnGemm.Pack(rd, 0, IsGru ? 2 : g.Gates, h, h, Lanes, UnitBlocks, o[R..]);
            if (IsGru) F32RnnGemm.Pack(rd, 2 * h, 1, h, h, Lanes, false, o[RHidden..]);
            if (!b.IsEmpty)
            {
                var wb = b.Slice(d * 2 * rows, rows);
                var rb = b.Slice(d * 2 * rows + rows, rows);
                for (int gate = 0; gate < g.Gates; gate++)
                {
                    bool apart = LinearBeforeReset && gate == 2;
                    for (int j = 0; j < h; j++)
                        o[Bias + F32RnnGemm.Column(gate, j, g.Gates, Hp, Lanes, UnitBlocks)] = wb[gate * h + j] + (apart ? 0 : rb[gate * h + j]);
                }
                if (LinearBeforeReset) rb.Slice(2 * h, h).CopyTo(o.Slice(RecurrentHiddenBias, h));
            }
            if (Peepholes)
                for (int k = 0; k < 3; k++) p.Slice(d * 3 * h + k * h, h).CopyTo(o.Slice(P + k * Hp, h));
        }
    }
}
