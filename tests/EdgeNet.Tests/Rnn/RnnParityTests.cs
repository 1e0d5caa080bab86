using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Proto;
using EdgeNet.Tests.RealModels;
using EdgeNet.Tests.Support;
using Google.Protobuf;
using Tensor = EdgeNet.IR.Tensor;

namespace EdgeNet.Tests.Rnn;

/// <summary>
/// LSTM, GRU and RNN built in memory and compared with ONNX Runtime on the same .onnx file: every direction, optional
/// inputs (B, sequence_lens, initial states, peepholes), optional outputs, activations with α/β, clip, input_forget,
/// linear_before_reset and layout = 1.
/// </summary>
public class RnnParityTests
{
    /// <summary>One recurrent node; X and the initial states are graph inputs, everything else initializers.</summary>
    public sealed record Case(string Op)
    {
        public string Direction { get; init; } = "forward";
        public int Layout { get; init; }
        public bool Bias { get; init; } = true;
        public int[]? Lens { get; init; }
        public bool InitialH { get; init; }
        public bool InitialC { get; init; }
        public bool Peepholes { get; init; }
        /// <summary>Which of Y, Y_h, Y_c the node names (empty string = skipped output).</summary>
        public string[] Outputs { get; init; } = [];
        public string[]? Activations { get; init; }
        public float[]? Alpha { get; init; }
        public float[]? Beta { get; init; }
        public float? Clip { get; init; }
        public int LinearBeforeReset { get; init; }
        public int InputForget { get; init; }
        public int Seq { get; init; } = 5;
        public int Batch { get; init; } = 3;
        public int InputSize { get; init; } = 4;
        public int Hidden { get; init; } = 3;
        /// <summary>hidden_size attribute when it should differ from the weights' (bad-model tests).</summary>
        public int? HiddenAttribute { get; init; }

        public int Gates => Op switch { "LSTM" => 4, "GRU" => 3, _ => 1 };
        public int Dirs => Direction == "bidirectional" ? 2 : 1;
        public string[] AllOutputs => Outputs.Length > 0 ? Outputs : Op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"];
    }

    private static ValueInfoProto FloatInfo(string name, int[]? dims = null)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = 1 };
        if (dims is not null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (int d in dims) tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    private static int[] StateDims(Case c, int layout) => layout == 1 ? [c.Batch, c.Dirs, c.Hidden] : [c.Dirs, c.Batch, c.Hidden];

    /// <summary>Writes the model for <paramref name="c"/> with the given layout; returns its path.</summary>
    private static string WriteModel(Case c, int layout, int seed)
    {
        int g = c.Gates, h = c.Hidden, nd = c.Dirs;
        var graph = new GraphProto { Name = "rnn" };
        graph.Input.Add(FloatInfo("X", layout == 1 ? [c.Batch, c.Seq, c.InputSize] : [c.Seq, c.Batch, c.InputSize]));
        void Init(string name, Tensor t) => graph.Initializer.Add(TensorProtoConverter.ToProto(name, t));
        Init("W", Parity.Random([nd, g * h, c.InputSize], seed + 1, -0.6f, 0.6f));
        Init("R", Parity.Random([nd, g * h, h], seed + 2, -0.6f, 0.6f));
        if (c.Bias) Init("B", Parity.Random([nd, 2 * g * h], seed + 3, -0.5f, 0.5f));
        if (c.Lens is { } lens) Init("sequence_lens", Tensor.FromArray([lens.Length], lens));
        if (c.InitialH) graph.Input.Add(FloatInfo("initial_h", StateDims(c, layout)));
        if (c.InitialC) graph.Input.Add(FloatInfo("initial_c", StateDims(c, layout)));
        if (c.Peepholes) Init("P", Parity.Random([nd, 3 * h], seed + 4, -0.5f, 0.5f));

        var node = new NodeProto { OpType = c.Op, Name = "rnn0", Input = { "X", "W", "R", c.Bias ? "B" : "", c.Lens is null ? "" : "sequence_lens" } };
        if (c.InitialH || c.InitialC || c.Peepholes) node.Input.Add(c.InitialH ? "initial_h" : "");
        if (c.InitialC || c.Peepholes) node.Input.Add(c.InitialC ? "initial_c" : "");
        if (c.Peepholes) node.Input.Add("P");
        while (node.Input.Count > 3 && node.Input[^1].Length == 0) node.Input.RemoveAt(node.Input.Count - 1);
        foreach (string o in c.AllOutputs)
        {
            node.Output.Add(o);
            if (o.Length > 0) graph.Output.Add(FloatInfo(o));
        }
        node.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeProto.Types.AttributeType.Int, I = c.HiddenAttribute ?? h });
        node.Attribute.Add(new AttributeProto { Name = "direction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(c.Direction) });
        if (layout != 0) node.Attribute.Add(new AttributeProto { Name = "layout", Type = AttributeProto.Types.AttributeType.Int, I = layout });
        if (c.Activations is { } acts)
        {
            var a = new AttributeProto { Name = "activations", Type = AttributeProto.Types.AttributeType.Strings };
            foreach (string s in acts) a.Strings.Add(ByteString.CopyFromUtf8(s));
            node.Attribute.Add(a);
        }
        if (c.Alpha is { } alpha) node.Attribute.Add(new AttributeProto { Name = "activation_alpha", Type = AttributeProto.Types.AttributeType.Floats, Floats = { alpha } });
        if (c.Beta is { } beta) node.Attribute.Add(new AttributeProto { Name = "activation_beta", Type = AttributeProto.Types.AttributeType.Floats, Floats = { beta } });
        if (c.Clip is { } clip) node.Attribute.Add(new AttributeProto { Name = "clip", Type = AttributeProto.Types.AttributeType.Float, F = clip });
        if (c.Op == "GRU") node.Attribute.Add(new AttributeProto { Name = "linear_before_reset", Type = AttributeProto.Types.AttributeType.Int, I = c.LinearBeforeReset });
        if (c.Op == "LSTM" && c.InputForget != 0) node.Attribute.Add(new AttributeProto { Name = "input_forget", Type = AttributeProto.Types.AttributeType.Int, I = c.InputForget });
        graph.Node.Add(node);

        var model = new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 14 } } };
        string path = Path.Combine(Path.GetTempPath(), $"edgenet-rnn-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    /// <summary>Permutes a rank-3/4 tensor whose first two axes are swapped (time/batch or direction/batch).</summary>
    private static Tensor SwapAxes(Tensor t, int a, int b)
    {
        var dims = t.Dims;
        var perm = Enumerable.Range(0, dims.Length).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        var outDims = perm.Select(p => dims[p]).ToArray();
        var src = t.ToFloatArray();
        var dst = new float[src.Length];
        var inStrides = new int[dims.Length];
        for (int i = dims.Length - 1, s = 1; i >= 0; s *= dims[i], i--) inStrides[i] = s;
        var idx = new int[dims.Length];
        for (int flat = 0; flat < dst.Length; flat++)
        {
            int rem = flat, offset = 0;
            for (int i = dims.Length - 1; i >= 0; i--) { idx[i] = rem % outDims[i]; rem /= outDims[i]; }
            for (int i = 0; i < dims.Length; i++) offset += idx[i] * inStrides[perm[i]];
            dst[flat] = src[offset];
        }
        return Tensor.FromArray(outDims, dst);
    }

    private static Dictionary<string, Tensor> Feeds(Case c, int seed)
    {
        var feeds = new Dictionary<string, Tensor>
        {
            ["X"] = Parity.Random(c.Layout == 1 ? [c.Batch, c.Seq, c.InputSize] : [c.Seq, c.Batch, c.InputSize], seed + 5, -2, 2),
        };
        if (c.InitialH) feeds["initial_h"] = Parity.Random(StateDims(c, c.Layout), seed + 6);
        if (c.InitialC) feeds["initial_c"] = Parity.Random(StateDims(c, c.Layout), seed + 7);
        return feeds;
    }

    /// <summary>
    /// Runs EdgeNet on the case and ONNX Runtime on the same file; with layout = 1 ORT (whose CPU kernels reject
    /// batch-major layout) runs the layout-0 twin on transposed inputs and its outputs are transposed back.
    /// </summary>
    private static void AssertMatchesOrt(Case c, int seed = 11)
    {
        string path = WriteModel(c, c.Layout, seed);
        string? twin = c.Layout == 1 ? WriteModel(c, 0, seed) : null;
        try
        {
            var feeds = Feeds(c, seed);

            Tensor[] expected;
            if (twin is null) expected = OrtOracle.Run(path, feeds);
            else
            {
                var twinFeeds = feeds.ToDictionary(kv => kv.Key, kv => SwapAxes(kv.Value, 0, 1));
                expected = OrtOracle.Run(twin, twinFeeds);
                // Y [seq, dirs, batch, H] → [batch, seq, dirs, H]; states [dirs, batch, H] → [batch, dirs, H]
                var named = c.AllOutputs.Where(o => o.Length > 0).ToArray();
                for (int i = 0; i < expected.Length; i++)
                    expected[i] = named[i] == "Y" ? SwapAxes(SwapAxes(expected[i], 0, 2), 1, 2) : SwapAxes(expected[i], 0, 1);
            }

            var session = new Session(OnnxImporter.Load(path));
            var actual = session.Run(feeds);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++) Parity.AssertClose(expected[i], actual[i], $"{c.Op} output {i}", atol: 1e-5, rtol: 1e-4);
        }
        finally
        {
            File.Delete(path);
            if (twin is not null) File.Delete(twin);
        }
    }

    [Fact]
    public void LstmBidirectionalWithEverything() => AssertMatchesOrt(new Case("LSTM")
    {
        Direction = "bidirectional", Lens = [5, 2, 4], InitialH = true, InitialC = true, Peepholes = true,
    });

    [Fact]
    public void LstmReverseWithoutBias() => AssertMatchesOrt(new Case("LSTM") { Direction = "reverse", Bias = false, Lens = [3, 5, 1] });

    [Fact]
    public void LstmLayout1Bidirectional() => AssertMatchesOrt(new Case("LSTM")
    {
        Direction = "bidirectional", Layout = 1, Lens = [4, 5, 2], InitialH = true, InitialC = true, Peepholes = true,
    });

    [Fact]
    public void LstmClipInputForgetAndCustomActivations() => AssertMatchesOrt(new Case("LSTM")
    {
        Direction = "bidirectional", Clip = 0.7f, InputForget = 1, InitialC = true,
        Activations = ["HardSigmoid", "LeakyRelu", "Softsign", "Sigmoid", "ScaledTanh", "Elu"],
        Alpha = [0.3f, 0.05f, 0.8f, 1.3f], Beta = [0.4f, 0.9f],
    });

    [Fact]
    public void LstmOnlyFinalStates() => AssertMatchesOrt(new Case("LSTM") { Outputs = ["", "Y_h", "Y_c"], Lens = [2, 5, 3], InitialH = true });

    [Fact]
    public void GruBidirectionalSequenceLensInitialState() => AssertMatchesOrt(new Case("GRU")
    {
        Direction = "bidirectional", Lens = [5, 3, 1], InitialH = true,
    });

    [Fact]
    public void GruLinearBeforeReset() => AssertMatchesOrt(new Case("GRU")
    {
        Direction = "bidirectional", LinearBeforeReset = 1, Lens = [2, 5, 4], InitialH = true,
    });

    [Fact]
    public void GruLayout1LinearBeforeResetReverse() => AssertMatchesOrt(new Case("GRU")
    {
        Direction = "reverse", Layout = 1, LinearBeforeReset = 1, Lens = [5, 1, 3], InitialH = true,
    });

    [Fact]
    public void GruCustomActivationsAndClip() => AssertMatchesOrt(new Case("GRU")
    {
        Clip = 0.9f, Activations = ["Affine", "Softplus"], Alpha = [0.7f], Beta = [0.2f], Outputs = ["", "Y_h"],
    });

    [Fact]
    public void RnnBidirectionalSequenceLensInitialState() => AssertMatchesOrt(new Case("RNN")
    {
        Direction = "bidirectional", Lens = [4, 5, 2], InitialH = true,
    });

    [Fact]
    public void RnnLayout1Bidirectional() => AssertMatchesOrt(new Case("RNN")
    {
        Direction = "bidirectional", Layout = 1, Lens = [1, 5, 3], InitialH = true,
    });

    [Fact]
    public void RnnReluAndThresholdedReluWithClip() => AssertMatchesOrt(new Case("RNN")
    {
        Direction = "bidirectional", Clip = 1.5f, Activations = ["Relu", "ThresholdedRelu"], Alpha = [0.1f],
    });

    /// <summary>An entry of length 0 leaves Y all zero and its final state 0 (not its initial state), as ORT does.</summary>
    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN")]
    public void ZeroLengthEntryEndsInZeroState(string op) => AssertMatchesOrt(new Case(op)
    {
        Direction = "bidirectional", Lens = [5, 0, 3], InitialH = true, InitialC = op == "LSTM",
    });

    [Fact]
    public void BadAttributesNameTheNode()
    {
        string path = WriteModel(new Case("GRU") { Direction = "sideways" }, 0, 1);
        try
        {
            var ex = Assert.Throws<ShapeInferenceException>(() => new Session(OnnxImporter.Load(path)).Run(
                new Dictionary<string, Tensor> { ["X"] = Parity.Random([5, 3, 4], 1) }));
            Assert.Contains("rnn0", ex.Message);
        }
        finally { File.Delete(path); }
        path = WriteModel(new Case("LSTM") { HiddenAttribute = 5 }, 0, 1);
        try
        {
            var ex = Assert.Throws<ShapeInferenceException>(() => new Session(OnnxImporter.Load(path)).Run(
                new Dictionary<string, Tensor> { ["X"] = Parity.Random([5, 3, 4], 1) }));
            Assert.Contains("W [1x12x4] must be [1, 20, 4]", ex.Message);
        }
        finally { File.Delete(path); }
        path = WriteModel(new Case("LSTM") { Activations = ["Sigmoid", "Tanh", "Gelu"] }, 0, 1);
        try
        {
            var ex = Assert.Throws<UnsupportedOperatorException>(() => new Session(OnnxImporter.Load(path)).Run(
                new Dictionary<string, Tensor> { ["X"] = Parity.Random([5, 3, 4], 1) }));
            Assert.Contains("Gelu", ex.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SequenceLengthPastTheSequenceIsRejected()
    {
        string path = WriteModel(new Case("RNN") { Lens = [5, 6, 1] }, 0, 1);
        try
        {
            var ex = Assert.Throws<InputMismatchException>(() => new Session(OnnxImporter.Load(path)).Run(
                new Dictionary<string, Tensor> { ["X"] = Parity.Random([5, 3, 4], 1) }));
            Assert.Contains("sequence_lens[1]", ex.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RunDoesNotAllocate()
    {
        foreach (var c in new[]
                 {
                     new Case("LSTM") { Direction = "bidirectional", Lens = [5, 2, 4], InitialH = true, InitialC = true, Peepholes = true },
                     new Case("GRU") { Direction = "bidirectional", LinearBeforeReset = 1, Lens = [2, 5, 4] },
                     new Case("RNN") { Layout = 1, InitialH = true },
                 })
        {
            string path = WriteModel(c, c.Layout, 3);
            try
            {
                var session = new Session(OnnxImporter.Load(path));
                session.Run(Feeds(c, 2));
                Allocations.AssertNoneAfterWarmUp(session.Run);
            }
            finally { File.Delete(path); }
        }
    }
}
