using System.Runtime.Intrinsics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Rnn;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Proto;
using EdgeNet.Ops.Rnn;
using EdgeNet.Tests.Support;
using Google.Protobuf;
using Tensor = EdgeNet.IR.Tensor;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The vectorized LSTM/GRU/RNN kernels (<see cref="F32RecurrentSimd"/>) against the scalar references: a kernel-level
/// sweep over hidden 1..70, odd/prime input sizes, seq 1..9, batch 1..3, every direction, both layouts and the options,
/// for all three lane widths (the 512- and 128-bit ones emulated where the CPU lacks them), plus whole sessions on
/// every ISA this machine supports, and the accuracy of the vector sigmoid/tanh.
/// </summary>
public class RnnKernelTests
{
    private const double Atol = 1e-5, Rtol = 1e-4;

    private sealed record Case(int Gates, int Hidden, int Input, int Seq, int Batch, RnnDirection Direction)
    {
        public bool BatchMajor { get; init; }
        public bool Bias { get; init; } = true;
        public bool Lens { get; init; }
        public bool InitialH { get; init; }
        public bool InitialC { get; init; }
        public bool Peepholes { get; init; }
        public float Clip { get; init; } = float.PositiveInfinity;
        public bool InputForget { get; init; }
        public bool LinearBeforeReset { get; init; }
        public int Directions => Direction == RnnDirection.Bidirectional ? 2 : 1;
        public override string ToString() =>
            $"gates {Gates} hidden {Hidden} input {Input} seq {Seq} batch {Batch} {Direction} layout {(BatchMajor ? 1 : 0)} bias {Bias} lens {Lens} " +
            $"h0 {InitialH} c0 {InitialC} peep {Peepholes} clip {Clip} inputForget {InputForget} lbr {LinearBeforeReset}";
    }

    /// <summary>Every hidden size 1..70 once per op, the other dimensions and options cycling independently.</summary>
    private static IEnumerable<Case> Sweep(int gates)
    {
        int[] inputs = [1, 2, 3, 5, 7, 11, 13, 17, 40];
        for (int hidden = 1; hidden <= 70; hidden++)
        {
            int i = hidden + gates;
            yield return new Case(gates, hidden, inputs[i % inputs.Length], 1 + i % 9, 1 + i % 3, (RnnDirection)(i % 3))
            {
                BatchMajor = i % 4 == 1,
                Bias = i % 5 != 0,
                Lens = i % 3 == 2,
                InitialH = i % 2 == 0,
                InitialC = i % 4 < 2,
                Peepholes = gates == 4 && i % 3 != 1,
                Clip = i % 5 == 3 ? 0.9f : float.PositiveInfinity,
                InputForget = gates == 4 && i % 7 == 2,
                LinearBeforeReset = i % 2 == 1,
            };
        }
    }

    private static float[] Random(int count, Random rng, float range)
    {
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * range;
        return v;
    }

    private sealed class Data
    {
        public required RnnGeometry Geometry { get; init; }
        public required RnnAttributes Attributes { get; init; }
        public required float[] X, W, R, B, P, H0, C0;
        public required int[] Lens;
    }

    private static Data Make(Case c, int seed)
    {
        var rng = new Random(seed);
        var g = new RnnGeometry(c.Seq, c.Batch, c.Input, c.Hidden, c.Directions, c.Gates, c.BatchMajor);
        RnnActivation[] defaults = c.Gates switch
        {
            4 => [RnnActivation.Sigmoid, RnnActivation.Tanh, RnnActivation.Tanh],
            3 => [RnnActivation.Sigmoid, RnnActivation.Tanh],
            _ => [RnnActivation.Tanh],
        };
        var acts = new RnnActivation[defaults.Length * c.Directions];
        for (int i = 0; i < acts.Length; i++) acts[i] = defaults[i % defaults.Length];
        int state = c.Directions * c.Batch * c.Hidden;
        var lens = new int[c.Lens ? c.Batch : 0];
        for (int b = 0; b < lens.Length; b++) lens[b] = b == 0 ? c.Seq : rng.Next(0, c.Seq + 1);
        // weights scaled like a trained net's (≈ 1/√fan-in) so the recurrence neither saturates nor explodes
        float wr = 1.5f / MathF.Sqrt(c.Input), rr = 1.5f / MathF.Sqrt(c.Hidden);
        return new Data
        {
            Geometry = g,
            Attributes = new RnnAttributes
            {
                Direction = c.Direction, HiddenSize = c.Hidden, BatchMajor = c.BatchMajor, Clip = c.Clip, Activations = acts,
                PerDirection = defaults.Length, InputForget = c.InputForget, LinearBeforeReset = c.LinearBeforeReset,
            },
            X = Random(c.Seq * c.Batch * c.Input, rng, 2f),
            W = Random(c.Directions * g.GateRows * c.Input, rng, wr),
            R = Random(c.Directions * g.GateRows * c.Hidden, rng, rr),
            B = c.Bias ? Random(c.Directions * 2 * g.GateRows, rng, 0.5f) : [],
            P = c.Peepholes ? Random(c.Directions * 3 * c.Hidden, rng, 0.5f) : [],
            H0 = c.InitialH ? Random(state, rng, 1f) : [],
            C0 = c.InitialC && c.Gates == 4 ? Random(state, rng, 1f) : [],
            Lens = lens,
        };
    }

    /// <summary>Runs reference (isa null) or the SIMD kernel; returns Y, Y_h, Y_c concatenated. Scratch is pre-filled with NaN.</summary>
    private static float[] Run(Data d, Isa? isa, bool prepack)
    {
        var g = d.Geometry;
        int y = g.SeqLength * g.Directions * g.Batch * g.HiddenSize, s = g.Directions * g.Batch * g.HiddenSize;
        var outputs = new float[y + 2 * s];
        RnnPackedWeights? layout = isa is { } i ? new RnnPackedWeights(g, F32RecurrentSimd.LanesOf(i), d.Attributes.LinearBeforeReset, d.P.Length > 0) : null;
        float[]? packed = null;
        if (layout is not null && prepack)
        {
            packed = new float[layout.Floats];
            layout.Pack(d.W, d.R, d.B, d.P, packed);
        }
        int scratchFloats = layout is not null ? F32RecurrentSimd.ScratchFloats(layout, prepack)
            : g.Gates switch { 4 => F32LstmReference.ScratchFloats(g), 3 => F32GruReference.ScratchFloats(g), _ => F32RnnReference.ScratchFloats(g) };
        var scratch = new float[scratchFloats];
        Array.Fill(scratch, float.NaN);
        var t = new RnnTensors
        {
            X = d.X, W = d.W, R = d.R, B = d.B, SequenceLens = d.Lens, InitialH = d.H0, InitialC = d.C0, P = d.P,
            Y = outputs.AsSpan(0, y), YH = outputs.AsSpan(y, s), YC = g.Gates == 4 ? outputs.AsSpan(y + s, s) : default,
            Scratch = scratch,
        };
        if (layout is not null) F32RecurrentSimd.Run(isa!.Value, layout, d.Attributes, t, packed);
        else if (g.Gates == 4) F32LstmReference.Run(g, d.Attributes, t);
        else if (g.Gates == 3) F32GruReference.Run(g, d.Attributes, t);
        else F32RnnReference.Run(g, d.Attributes, t);
        return outputs;
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs((double)actual[i] - expected[i]);
            if (!(err <= Atol + Rtol * Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i} is {actual[i]}, reference {expected[i]}");
        }
    }

    /// <summary>All three lane widths, whether or not this CPU runs them natively (the vector API emulates the rest).</summary>
    public static TheoryData<Isa> Widths => new() { Isa.Avx2, Isa.Avx512, Isa.Neon };

    [Theory]
    [MemberData(nameof(Widths))]
    public void LstmMatchesReference(Isa isa) => SweepOp(4, isa);

    [Theory]
    [MemberData(nameof(Widths))]
    public void GruMatchesReference(Isa isa) => SweepOp(3, isa);

    [Theory]
    [MemberData(nameof(Widths))]
    public void RnnMatchesReference(Isa isa) => SweepOp(1, isa);

    private static void SweepOp(int gates, Isa isa)
    {
        int n = 0;
        foreach (var c in Sweep(gates))
        {
            var d = Make(c, 100 + n);
            var expected = Run(d, null, false);
            AssertClose(expected, Run(d, isa, prepack: n % 2 == 0), $"{isa} {c}");
            n++;
        }
        Assert.Equal(70, n);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void EveryDirectionAndLayoutWithAllOptions(Isa isa)
    {
        int n = 0;
        foreach (int gates in new[] { 4, 3, 1 })
            foreach (var dir in Enum.GetValues<RnnDirection>())
                foreach (bool batchMajor in new[] { false, true })
                    foreach (bool lbr in new[] { false, true })
                    {
                        var c = new Case(gates, 19, 7, 6, 3, dir)
                        {
                            BatchMajor = batchMajor, Lens = true, InitialH = true, InitialC = true, Peepholes = gates == 4,
                            Clip = lbr ? 0.8f : float.PositiveInfinity, LinearBeforeReset = lbr, InputForget = gates == 4 && lbr,
                        };
                        var d = Make(c, 7 + n++);
                        AssertClose(Run(d, null, false), Run(d, isa, prepack: true), $"{isa} {c}");
                    }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void VectorSigmoidAndTanhWithinStatedError(Isa isa)
    {
        var (sigmoidAbs, sigmoidRel, tanhAbs, tanhRel) = isa switch
        {
            Isa.Avx512 => MeasureMathError<Avx512Lanes, Vector512<float>>(),
            Isa.Neon => MeasureMathError<NeonLanes, Vector128<float>>(),
            _ => MeasureMathError<Avx2Lanes, Vector256<float>>(),
        };
        // the bounds the recurrent gates need (VectorMath documents ≤ 2 ulp)
        Assert.True(sigmoidAbs <= 1.5e-7 && tanhAbs <= 1.5e-7, $"{isa}: max abs error sigmoid {sigmoidAbs:E2}, tanh {tanhAbs:E2}");
        Assert.True(sigmoidRel <= 5e-7 && tanhRel <= 5e-7, $"{isa}: max rel error sigmoid {sigmoidRel:E2}, tanh {tanhRel:E2}");
    }

    private static (double, double, double, double) MeasureMathError<TS, TVec>() where TS : IRnnSimd<TVec> where TVec : unmanaged
    {
        int lanes = TS.Lanes;
        var xs = new List<float>();
        for (int i = -300000; i <= 300000; i++) xs.Add(i * 1e-4f); // [−30, 30]
        foreach (float e in new[] { 1e-30f, 1e-10f, 1e-6f, 0.2499999f, 0.25f, 0.2500001f, 50f, 87.5f, 88.7f, 100f, 1e30f, float.MaxValue })
        {
            xs.Add(e);
            xs.Add(-e);
        }
        while (xs.Count % lanes != 0) xs.Add(0);
        var x = xs.ToArray();
        var sig = new float[x.Length];
        var tanh = new float[x.Length];
        for (int i = 0; i < x.Length; i += lanes)
        {
            var v = TS.Load(ref x[i]);
            TS.Store(TS.Sigmoid(v), ref sig[i]);
            TS.Store(TS.Tanh(v), ref tanh[i]);
        }
        double sa = 0, sr = 0, ta = 0, tr = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double es = 1 / (1 + Math.Exp(-(double)x[i])), et = Math.Tanh(x[i]);
            double ds = Math.Abs(sig[i] - es), dt = Math.Abs(tanh[i] - et);
            if (double.IsNaN(ds) || double.IsNaN(dt)) return (double.NaN, double.NaN, double.NaN, double.NaN);
            sa = Math.Max(sa, ds);
            ta = Math.Max(ta, dt);
            if (Math.Abs(es) >= 1e-30) sr = Math.Max(sr, ds / Math.Abs(es));
            if (Math.Abs(et) >= 1e-30) tr = Math.Max(tr, dt / Math.Abs(et));
        }
        return (sa, sr, ta, tr);
    }

    [Fact]
    public void PaddingPast2GiBFallsBackToReference()
    {
        Assert.True(F32RecurrentSimd.Fits(new RnnGeometry(49, 1, 40, 64, 2, 4, false), 16));
        // 2²⁶ projection rows of hidden size 1 padded to 16 lanes: 4 GiB of scratch
        Assert.False(F32RecurrentSimd.Fits(new RnnGeometry(1 << 24, 4, 1, 1, 1, 4, false), 16));
    }

    // ---- whole sessions, every ISA this machine has ----

    private static ValueInfoProto FloatInfo(string name, int[] dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() };
        foreach (int d in dims) tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    /// <summary>One LSTM/GRU/RNN node; X (and W, R when <paramref name="weightsAsInputs"/>) are graph inputs.</summary>
    private static Model BuildModel(Case c, Data d, bool weightsAsInputs)
    {
        string op = c.Gates switch { 4 => "LSTM", 3 => "GRU", _ => "RNN" };
        var g = d.Geometry;
        var graph = new GraphProto { Name = "rnn" };
        int[] xDims = c.BatchMajor ? [c.Batch, c.Seq, c.Input] : [c.Seq, c.Batch, c.Input];
        graph.Input.Add(FloatInfo("X", xDims));
        int[] wDims = [c.Directions, g.GateRows, c.Input], rDims = [c.Directions, g.GateRows, c.Hidden];
        if (weightsAsInputs)
        {
            graph.Input.Add(FloatInfo("W", wDims));
            graph.Input.Add(FloatInfo("R", rDims));
        }
        else
        {
            graph.Initializer.Add(TensorProtoConverter.ToProto("W", Tensor.FromArray(wDims, d.W)));
            graph.Initializer.Add(TensorProtoConverter.ToProto("R", Tensor.FromArray(rDims, d.R)));
        }
        graph.Initializer.Add(TensorProtoConverter.ToProto("B", Tensor.FromArray([c.Directions, 2 * g.GateRows], d.B)));
        var node = new NodeProto { OpType = op, Name = "rnn0", Input = { "X", "W", "R", "B" } };
        node.Output.Add("Y");
        node.Output.Add("Y_h");
        graph.Output.Add(FloatInfo("Y", g.YShape));
        graph.Output.Add(FloatInfo("Y_h", g.StateShape));
        node.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeProto.Types.AttributeType.Int, I = c.Hidden });
        string dir = c.Direction switch { RnnDirection.Forward => "forward", RnnDirection.Reverse => "reverse", _ => "bidirectional" };
        node.Attribute.Add(new AttributeProto { Name = "direction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(dir) });
        if (c.BatchMajor) node.Attribute.Add(new AttributeProto { Name = "layout", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        if (c.Gates == 3 && c.LinearBeforeReset)
            node.Attribute.Add(new AttributeProto { Name = "linear_before_reset", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 14 } } };
        return OnnxImporter.Load(model.ToByteArray(), null);
    }

    public static TheoryData<int, bool> SessionCases => new() { { 4, false }, { 4, true }, { 3, false }, { 3, true }, { 1, false }, { 1, true } };

    [Theory]
    [MemberData(nameof(SessionCases))]
    public void SessionOnEveryAvailableIsaMatchesScalar(int gates, bool weightsAsInputs)
    {
        foreach (var (hidden, input, dir, batchMajor) in new[] { (64, 40, RnnDirection.Forward, false), (13, 7, RnnDirection.Bidirectional, true), (5, 3, RnnDirection.Reverse, false) })
        {
            var c = new Case(gates, hidden, input, 9, 2, dir) { BatchMajor = batchMajor, LinearBeforeReset = hidden == 64 };
            var d = Make(c, hidden);
            var feeds = new Dictionary<string, Tensor> { ["X"] = Tensor.FromArray(c.BatchMajor ? [c.Batch, c.Seq, c.Input] : [c.Seq, c.Batch, c.Input], d.X) };
            if (weightsAsInputs)
            {
                feeds["W"] = Tensor.FromArray([c.Directions, d.Geometry.GateRows, c.Input], d.W);
                feeds["R"] = Tensor.FromArray([c.Directions, d.Geometry.GateRows, c.Hidden], d.R);
            }
            var expected = new Session(BuildModel(c, d, weightsAsInputs), new SessionOptions { Isa = Isa.Scalar }).Run(feeds);
            foreach (var isa in IsaSupport.Available)
            {
                var session = new Session(BuildModel(c, d, weightsAsInputs), new SessionOptions { Isa = isa });
                var actual = session.Run(feeds);
                for (int i = 0; i < expected.Length; i++)
                    AssertClose(expected[i].ToFloatArray(), actual[i].ToFloatArray(), $"{isa} output {i} {c}");
                if (isa != Isa.Scalar) Allocations.AssertNoneAfterWarmUp(() => session.Run(), batch: 10);
            }
        }
    }
}
