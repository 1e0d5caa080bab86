using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Passes;

namespace EdgeNet.Tests.Passes;

/// <summary>Builds small graphs in memory, the way an importer would (every node output gets a Value with its producer).</summary>
internal sealed class GraphBuilder(int opset = 13)
{
    private int _count;
    public IR.Graph Graph { get; } = new() { Name = "g" };
    public int Opset { get; } = opset;

    public Value Input(string name, params int[] dims)
    {
        var v = Graph.GetOrAddValue(name);
        v.DataType = DataType.Float32;
        v.Shape = Array.ConvertAll(dims, d => Dim.Known(d));
        Graph.Inputs.Add(v);
        return v;
    }

    public Value Const(Tensor t, string name = "c") => Graph.AddConstant(name, t);
    public Value Scalar(float value) => Const(Tensor.Scalar(value));
    public Value Ints(params long[] values) => Const(Tensor.FromArray([values.Length], values), "i");

    public Value Random(int seed, params int[] dims)
    {
        var rng = new Random(seed);
        var t = Tensor.Zeros(DataType.Float32, dims);
        foreach (ref float f in t.AsSpan<float>()) f = (float)(rng.NextDouble() * 2 - 1);
        return Const(t, "w");
    }

    public Node Node(string opType, Value?[] inputs, string domain = "", params IR.Attribute[] attributes)
    {
        var n = new Node { OpType = opType, Domain = domain, Name = $"{opType}_{_count++}", OpsetVersion = Opset };
        n.Inputs.AddRange(inputs);
        foreach (var a in attributes) n.SetAttribute(a);
        var y = Graph.GetOrAddValue(Graph.UniqueName(n.Name + "_out"));
        n.Outputs.Add(y);
        y.Producer = n;
        Graph.Nodes.Add(n);
        return n;
    }

    public Value Op(string opType, params Value?[] inputs) => Node(opType, inputs).Outputs[0];
    public Value Op(string opType, Value?[] inputs, params IR.Attribute[] attributes) => Node(opType, inputs, "", attributes).Outputs[0];

    public Model Model(params Value[] outputs)
    {
        Graph.Outputs.AddRange(outputs);
        var m = new Model { Graph = Graph };
        m.Opsets[""] = Opset;
        return m;
    }
}

public class PassTests
{
    private static readonly IGraphPass[] s_folding = [new ConstantFolding(), new DeadNodeElimination()];

    /// <summary>
    /// Runs the graph from <paramref name="build"/> before and after <paramref name="passes"/> on the same random inputs
    /// and asserts equal outputs (within 1e-5, relative above 1); returns the optimized model.
    /// </summary>
    private static Model AssertSameOutputs(Func<Model> build, IReadOnlyList<IGraphPass> passes, int seed = 7)
    {
        var reference = build();
        var rng = new Random(seed);
        var inputs = new Dictionary<string, Tensor>();
        foreach (var v in reference.Graph.Inputs)
        {
            var t = Tensor.Zeros(v.DataType, v.Shape!.Select(d => d.IsKnown ? (int)d.Value : 2).ToArray());
            if (v.DataType == DataType.Bool) foreach (ref byte c in t.AsSpan<byte>()) c = (byte)(seed & 1);
            else foreach (ref float f in t.AsSpan<float>()) f = (float)(rng.NextDouble() * 10 - 5);
            inputs[v.Name] = t;
        }
        var expected = new Session(reference).Run(inputs);
        var optimized = build();
        PassPipeline.Optimize(optimized, passes);
        var actual = new Session(optimized).Run(inputs);
        Assert.Equal(expected.Length, actual.Length);
        for (int o = 0; o < expected.Length; o++)
        {
            Assert.Equal(expected[o].Dims, actual[o].Dims);
            Assert.Equal(expected[o].DataType, actual[o].DataType);
            for (int i = 0; i < expected[o].ElementCount; i++)
            {
                double e = expected[o].GetAsDouble(i), a = actual[o].GetAsDouble(i);
                Assert.True(Math.Abs(e - a) <= 1e-5 * Math.Max(1, Math.Abs(e)), $"output {o}[{i}]: expected {e}, got {a}");
            }
        }
        return optimized;
    }

    private static string[] Ops(Model m) => m.Graph.Nodes.Select(n => n.OpType).ToArray();

    // ---------------------------------------------------------------- ConstantFolding

    /// <summary>PyTorch's x.view(x.size(0), -1) on a static shape: Shape → Gather → Unsqueeze → Concat → Reshape.</summary>
    private static Model ShapeChain()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 2, 3, 4);
        var shape = b.Op("Shape", x);
        var first = b.Op("Gather", [shape, b.Const(Tensor.Scalar(0L))], IR.Attribute.Of("axis", 0L));
        var unsqueezed = b.Op("Unsqueeze", first, b.Ints(0));
        var target = b.Op("Concat", [unsqueezed, b.Ints(-1)], IR.Attribute.Of("axis", 0L));
        var y = b.Op("Reshape", x, target);
        var bias = b.Op("Add", b.Random(1, 12), b.Scalar(1)); // constant arithmetic folds too
        return b.Model(b.Op("Add", y, bias));
    }

    [Fact]
    public void ConstantFoldingRemovesStaticShapeChains()
    {
        var m = AssertSameOutputs(ShapeChain, s_folding);
        Assert.Equal(["Reshape", "Add"], Ops(m));
        var reshape = m.Graph.Nodes[0];
        Assert.Equal([2L, -1L], reshape.Inputs[1]!.Constant!.ToInt64Array());
        Assert.NotNull(m.Graph.Nodes[1].Inputs[1]!.Constant);
    }

    [Fact]
    public void ConstantFoldingKeepsShapesOfSymbolicInputs()
    {
        Model Build()
        {
            var m = ShapeChain();
            m.Graph.Inputs[0].Shape = [Dim.Named("n"), Dim.Known(3), Dim.Known(4)];
            return m;
        }
        var m = AssertSameOutputs(Build, s_folding);
        Assert.Contains("Shape", Ops(m));
        Assert.Contains("Concat", Ops(m));
        Assert.Single(Ops(m), "Add"); // the x-independent Add(w, 1) still folds
    }

    [Fact]
    public void ConstantFoldingKeepsLargeGeneratorsAndWhatReadsThem()
    {
        Model Build()
        {
            var b = new GraphBuilder();
            var x = b.Input("x", 1, 512);
            var big = b.Op("ConstantOfShape", b.Ints(1024, 512)); // 2 MiB of zeros from 16 bytes
            var small = b.Op("ConstantOfShape", b.Ints(4));
            var bigPlusOne = b.Op("Add", big, b.Scalar(1));
            return b.Model(b.Op("Add", x, bigPlusOne), b.Op("Add", small, b.Scalar(2)));
        }
        var m = AssertSameOutputs(Build, s_folding);
        Assert.Equal(["ConstantOfShape", "Add", "Add"], Ops(m));
        Assert.Equal([4], m.Graph.Outputs[1].Constant!.Dims);
        Assert.All(m.Graph.Initializers, v => Assert.True(v.Constant!.Data.Length < 1 << 20, v.Name));
    }

    // ---------------------------------------------------------------- InlineConstantIf

    /// <summary>
    /// y = If(cond) then (x + k) else (x · k), each branch with its own constant "k" and output "v"; the outer graph
    /// also has a value "v" (name clashes must be resolved) and adds it to the If's result.
    /// </summary>
    private static Model ConstantIf(bool condition)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 2, 3);
        var outerV = b.Graph.GetOrAddValue("v");
        var neg = b.Node("Neg", [x]);
        b.Graph.Values.Remove(neg.Outputs[0].Name);
        neg.Outputs[0] = outerV;
        outerV.Producer = neg;

        IR.Graph Branch(string op, float k)
        {
            var g = new IR.Graph { Name = op };
            var kv = g.AddConstant("k", Tensor.FromArray([3], new[] { k, k + 1, k + 2 }));
            var n = new Node { OpType = op, Name = "inner", OpsetVersion = 13 };
            n.Inputs.Add(x);
            n.Inputs.Add(kv);
            var v = g.GetOrAddValue("v");
            n.Outputs.Add(v);
            v.Producer = n;
            g.Nodes.Add(n);
            g.Outputs.Add(v);
            return g;
        }
        var cond = b.Const(new Tensor(DataType.Bool, [], new byte[] { (byte)(condition ? 1 : 0) }), "cond");
        var ifNode = b.Node("If", [cond], "", IR.Attribute.Of("then_branch", Branch("Add", 10)), IR.Attribute.Of("else_branch", Branch("Mul", -3)));
        return b.Model(b.Op("Add", ifNode.Outputs[0], outerV));
    }

    [Theory]
    [InlineData(true, "Add")]
    [InlineData(false, "Mul")]
    public void InlineConstantIfPutsTheChosenBranchInPlace(bool condition, string branchOp)
    {
        var m = AssertSameOutputs(() => ConstantIf(condition), [new InlineConstantIf(), new IdentityElimination(), new DeadNodeElimination()]);
        Assert.Equal(["Neg", branchOp, "Add"], Ops(m));
        var inlined = m.Graph.Nodes[1];
        Assert.Same(m.Graph.Inputs[0], inlined.Inputs[0]);      // the captured outer value stays itself
        Assert.NotEqual("v", inlined.Inputs[1]!.Name);
        Assert.Same(m.Graph.Values[inlined.Inputs[1]!.Name], inlined.Inputs[1]); // branch constant now owned by the graph
        Assert.Equal("v", m.Graph.Nodes[0].Outputs[0].Name);    // the outer "v" kept its name
        Assert.Equal(m.Graph.Values.Count, m.Graph.Values.Values.Select(v => v.Name).Distinct().Count());
    }

    /// <summary>
    /// A constant If whose chosen branch holds a run-time If reading a value local to the outer branch: after inlining
    /// (and the rename) the nested branches must still read that same value.
    /// </summary>
    private static Model NestedIf()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 4);
        var gate = b.Graph.GetOrAddValue("gate");
        gate.DataType = DataType.Bool;
        gate.Shape = [];
        b.Graph.Inputs.Add(gate);

        IR.Graph Single(string name, string op, Value input, Value? second = null)
        {
            var g = new IR.Graph { Name = name };
            var n = new Node { OpType = op, Name = name + "_node", OpsetVersion = 13 };
            n.Inputs.Add(input);
            if (second is not null) n.Inputs.Add(second);
            var v = g.GetOrAddValue("v");
            n.Outputs.Add(v);
            v.Producer = n;
            g.Nodes.Add(n);
            g.Outputs.Add(v);
            return g;
        }
        var outerThen = new IR.Graph { Name = "outer_then" };
        var k = outerThen.AddConstant("k", Tensor.FromArray([4], new float[] { 1, -2, 3, -4 }));
        var add = new Node { OpType = "Add", Name = "local_add", OpsetVersion = 13 };
        add.Inputs.Add(x);
        add.Inputs.Add(k);
        var local = outerThen.GetOrAddValue("v");
        add.Outputs.Add(local);
        local.Producer = add;
        outerThen.Nodes.Add(add);
        var inner = new Node { OpType = "If", Name = "inner", OpsetVersion = 13 };
        inner.Inputs.Add(gate);
        inner.SetAttribute(IR.Attribute.Of("then_branch", Single("neg", "Neg", local)));
        inner.SetAttribute(IR.Attribute.Of("else_branch", Single("mul", "Mul", local, x)));
        var innerOut = outerThen.GetOrAddValue("w");
        inner.Outputs.Add(innerOut);
        innerOut.Producer = inner;
        outerThen.Nodes.Add(inner);
        outerThen.Outputs.Add(innerOut);

        var cond = b.Const(new Tensor(DataType.Bool, [], new byte[] { 1 }), "cond");
        var ifNode = b.Node("If", [cond], "", IR.Attribute.Of("then_branch", outerThen), IR.Attribute.Of("else_branch", Single("abs", "Abs", x)));
        return b.Model(ifNode.Outputs[0]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void InlineConstantIfKeepsNestedCapturesWorking(int seed)
    {
        var m = AssertSameOutputs(NestedIf, [new InlineConstantIf(), new IdentityElimination(), new DeadNodeElimination()], seed);
        Assert.Equal(["Add", "If"], Ops(m));
        var local = m.Graph.Nodes[0].Outputs[0];
        Assert.Same(m.Graph.Values[local.Name], local);
        Assert.Same(local, m.Graph.Nodes[1].GetGraph("then_branch")!.Nodes[0].Inputs[0]);
    }

    [Fact]
    public void InlineConstantIfLeavesRuntimeConditionsAlone()
    {
        Model Build()
        {
            var m = ConstantIf(true);
            var cond = m.Graph.Values["cond"];
            cond.Constant = null;
            cond.DataType = DataType.Bool;
            cond.Shape = [];
            m.Graph.Inputs.Add(cond);
            return m;
        }
        var m = Build();
        Assert.False(new InlineConstantIf().Run(m));
        Assert.Contains("If", Ops(m));
    }

    // ---------------------------------------------------------------- FuseHardSwish

    private static readonly IGraphPass[] s_hardSwish = [new FuseHardSwish(), new DeadNodeElimination()];

    public static TheoryData<int> HardSwishForms => new() { 0, 1, 2, 3, 4, 5 };

    /// <summary>Six spellings of hswish(x): HardSigmoid forms, and x·clip(x+3,0,6)/6 in several arrangements.</summary>
    private static Model HardSwishGraph(int form, bool extraReader = false)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 2, 3, 4);
        Value y;
        Value? leaked = null;
        switch (form)
        {
            case 0 or 1:
                var hs = b.Op("HardSigmoid", [x], IR.Attribute.Of("alpha", 1f / 6), IR.Attribute.Of("beta", 0.5f));
                y = form == 0 ? b.Op("Mul", x, hs) : b.Op("Mul", hs, x);
                leaked = hs;
                break;
            default:
                var shifted = form == 3 ? b.Op("Add", b.Scalar(3), x) : b.Op("Add", x, b.Scalar(3));
                var clip = b.Op("Clip", shifted, b.Scalar(0), b.Scalar(6));
                leaked = shifted;
                y = form switch
                {
                    2 => b.Op("Div", b.Op("Mul", x, clip), b.Scalar(6)),
                    3 => b.Op("Mul", b.Scalar(1f / 6), b.Op("Mul", clip, x)),
                    4 => b.Op("Mul", x, b.Op("Div", clip, b.Scalar(6))),
                    _ => b.Op("Mul", b.Op("Mul", clip, b.Scalar(1f / 6)), x),
                };
                break;
        }
        return extraReader ? b.Model(y, b.Op("Neg", leaked)) : b.Model(y);
    }

    [Theory]
    [MemberData(nameof(HardSwishForms))]
    public void FuseHardSwishFindsEveryForm(int form)
    {
        var m = AssertSameOutputs(() => HardSwishGraph(form), s_hardSwish);
        Assert.Equal(["HardSwish"], Ops(m));
        Assert.Same(m.Graph.Inputs[0], m.Graph.Nodes[0].Inputs[0]);
    }

    [Theory]
    [MemberData(nameof(HardSwishForms))]
    public void FuseHardSwishLeavesPatternsWithAnotherReader(int form)
    {
        var m = AssertSameOutputs(() => HardSwishGraph(form, extraReader: true), s_hardSwish);
        Assert.DoesNotContain("HardSwish", Ops(m));
        Assert.Equal(HardSwishGraph(form, extraReader: true).Graph.Nodes.Count, m.Graph.Nodes.Count);
    }

    [Fact]
    public void FuseHardSwishNeedsTheRightConstants()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 4);
        var clip = b.Op("Clip", b.Op("Add", x, b.Scalar(3)), b.Scalar(0), b.Scalar(6));
        var m = b.Model(b.Op("Div", b.Op("Mul", x, clip), b.Scalar(5)));
        Assert.False(new FuseHardSwish().Run(m));
    }

    // ---------------------------------------------------------------- FuseSwish

    private static Model SwishGraph(bool sigmoidFirst, bool extraReader = false)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 3, 5);
        var s = b.Op("Sigmoid", x);
        var y = sigmoidFirst ? b.Op("Mul", s, x) : b.Op("Mul", x, s);
        return extraReader ? b.Model(y, s) : b.Model(y);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FuseSwishMakesOneNode(bool sigmoidFirst)
    {
        var m = AssertSameOutputs(() => SwishGraph(sigmoidFirst), [new FuseSwish(), new DeadNodeElimination()]);
        Assert.Equal(["Swish"], Ops(m));
        Assert.Equal("edgenet", m.Graph.Nodes[0].Domain);
        Assert.Equal(1, m.Opsets["edgenet"]);
    }

    [Fact]
    public void FuseSwishLeavesASigmoidSomeoneElseReads()
    {
        var m = AssertSameOutputs(() => SwishGraph(true, extraReader: true), [new FuseSwish(), new DeadNodeElimination()]);
        Assert.Equal(["Sigmoid", "Mul"], Ops(m));
    }

    // ---------------------------------------------------------------- FuseLayerNorm

    /// <summary>The decomposed layer norm over the last axis of a [2,5,8] input.</summary>
    private static Model LayerNormGraph(int opset, bool mulSquare = false, bool withBeta = true, bool swapOperands = false, bool leakD = false, bool leakMean = false)
    {
        var b = new GraphBuilder(opset);
        var x = b.Input("x", 2, 5, 8);
        Value Mean(Value v) => opset >= 18
            ? b.Op("ReduceMean", v, b.Ints(-1))
            : b.Op("ReduceMean", [v], IR.Attribute.Of("axes", new long[] { -1 }));
        var mean = Mean(x);
        var d = b.Op("Sub", x, mean);
        var sq = mulSquare ? b.Op("Mul", d, d) : b.Op("Pow", d, b.Scalar(2));
        var variance = Mean(sq);
        var plusEps = swapOperands ? b.Op("Add", b.Scalar(1e-3f), variance) : b.Op("Add", variance, b.Scalar(1e-3f));
        var n = b.Op("Div", d, b.Op("Sqrt", plusEps));
        var gamma = b.Random(3, 8);
        var y = swapOperands ? b.Op("Mul", gamma, n) : b.Op("Mul", n, gamma);
        if (withBeta) y = swapOperands ? b.Op("Add", b.Random(4, 1, 8), y) : b.Op("Add", y, b.Random(4, 8));
        var outputs = new List<Value> { y };
        if (leakD) outputs.Add(b.Op("Neg", d));
        if (leakMean) outputs.Add(mean);
        return b.Model([.. outputs]);
    }

    [Theory]
    [InlineData(13, false, true, false)]
    [InlineData(13, true, true, true)]
    [InlineData(18, false, true, true)]
    [InlineData(18, true, false, false)]
    [InlineData(17, false, false, true)]
    public void FuseLayerNormMakesLayerNormalization(int opset, bool mulSquare, bool withBeta, bool swap)
    {
        var m = AssertSameOutputs(() => LayerNormGraph(opset, mulSquare, withBeta, swap), [new FuseLayerNorm(), new DeadNodeElimination()]);
        Assert.Equal(["LayerNormalization"], Ops(m));
        var ln = m.Graph.Nodes[0];
        Assert.Equal(1e-3f, ln.GetFloat("epsilon", 0));
        Assert.Equal(-1, ln.GetInt("axis", 0));
        Assert.Equal(withBeta ? 3 : 2, ln.Inputs.Count);
        Assert.All(ln.Inputs.Skip(1), v => Assert.Equal([8], v!.Constant!.Dims));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void FuseLayerNormLeavesIntermediatesOthersRead(bool leakD, bool leakMean)
    {
        var m = AssertSameOutputs(() => LayerNormGraph(13, leakD: leakD, leakMean: leakMean), [new FuseLayerNorm(), new DeadNodeElimination()]);
        Assert.DoesNotContain("LayerNormalization", Ops(m));
    }

    [Fact]
    public void FuseLayerNormNeedsTheLastAxis()
    {
        var m = LayerNormGraph(13);
        foreach (var n in m.Graph.Nodes.Where(n => n.OpType == "ReduceMean")) n.SetAttribute(IR.Attribute.Of("axes", new long[] { 1 }));
        Assert.False(new FuseLayerNorm().Run(m));
    }

    // ---------------------------------------------------------------- FuseActivation

    public static TheoryData<string, string> Activations => new()
    {
        { "Conv", "Relu" }, { "Conv", "Relu6" }, { "Conv", "HardSwish" }, { "Conv", "Swish" }, { "Conv", "LeakyRelu" },
        { "Gemm", "Relu6" }, { "Gemm", "LeakyRelu" }, { "Gemm", "Swish" },
        { "MatMul", "Relu" }, { "MatMul", "HardSwish" }, { "MatMul", "Clip" },
        { "Conv", "MaxZero" }, { "Conv", "ZeroMax" }, { "Gemm", "MaxFloor" },
    };

    private static Model ProducerWithActivation(string producer, string activation, bool extraReader = false)
    {
        var b = new GraphBuilder();
        Value p = producer switch
        {
            "Conv" => b.Op("Conv", [b.Input("x", 1, 2, 6, 6), b.Random(1, 3, 2, 3, 3), b.Random(2, 3)], IR.Attribute.Of("pads", new long[] { 1, 1, 1, 1 })),
            "Gemm" => b.Op("Gemm", b.Input("x", 2, 4), b.Random(1, 4, 3), b.Random(2, 3)),
            _ => b.Op("MatMul", b.Input("x", 2, 3, 4), b.Random(1, 4, 5)),
        };
        Value y = activation switch
        {
            "Relu6" => b.Op("Clip", p, b.Scalar(0), b.Scalar(6)),
            "Clip" => b.Op("Clip", p, b.Scalar(-0.5f), b.Scalar(0.25f)),
            "LeakyRelu" => b.Op("LeakyRelu", [p], IR.Attribute.Of("alpha", 0.1f)),
            "Swish" => b.Node("Swish", [p], FuseSwish.Domain).Outputs[0],
            "MaxZero" => b.Op("Max", p, b.Scalar(0)),
            "ZeroMax" => b.Op("Max", b.Scalar(0), p),
            "MaxFloor" => b.Op("Max", p, b.Scalar(-0.25f)),
            _ => b.Op(activation, p),
        };
        return extraReader ? b.Model(y, p) : b.Model(y);
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void FuseActivationFoldsIntoTheProducer(string producer, string activation)
    {
        var m = AssertSameOutputs(() => ProducerWithActivation(producer, activation), [new FuseActivation(), new DeadNodeElimination()]);
        Assert.Equal([producer], Ops(m));
        var kind = FusedActivation.Of(m.Graph.Nodes[0]).Kind;
        Assert.Equal(activation switch { "Relu6" or "MaxFloor" => ActivationKind.Clip, "MaxZero" or "ZeroMax" => ActivationKind.Relu, _ => Enum.Parse<ActivationKind>(activation) }, kind);
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void FuseActivationLeavesOutputsOthersRead(string producer, string activation)
    {
        var m = AssertSameOutputs(() => ProducerWithActivation(producer, activation, extraReader: true), [new FuseActivation(), new DeadNodeElimination()]);
        Assert.Equal(2, m.Graph.Nodes.Count);
        Assert.Equal(ActivationKind.None, FusedActivation.Of(m.Graph.Nodes[0]).Kind);
    }

    /// <summary>Conv → LeakyRelu → Max(·, c) as tf2onnx writes openWakeWord's layers (c of shape [1,1,1,1], values
    /// without shapes): one Conv with LeakyReluFloor(α, c), the same outputs; an extra reader of the LeakyRelu output
    /// keeps the Max apart.</summary>
    [Theory]
    [InlineData("Conv", -0.4f)]
    [InlineData("Conv", 0f)]
    [InlineData("Gemm", -0.25f)]
    public void FuseActivationFoldsLeakyReluThenMaxIntoOne(string producer, float floor)
    {
        Model Build(bool extraReader)
        {
            var b = new GraphBuilder();
            Value p = producer == "Conv"
                ? b.Op("Conv", [b.Input("x", 1, 2, 6, 6), b.Random(1, 3, 2, 3, 3), b.Random(2, 3)], IR.Attribute.Of("pads", new long[] { 1, 1, 1, 1 }))
                : b.Op("Gemm", b.Input("x", 2, 4), b.Random(1, 4, 3), b.Random(2, 3));
            var leaky = b.Op("LeakyRelu", [p], IR.Attribute.Of("alpha", 0.2f));
            var c = producer == "Conv" ? b.Const(Tensor.FromArray([1, 1, 1, 1], new[] { floor })) : b.Scalar(floor);
            var y = b.Op("Max", leaky, c);
            foreach (var v in new[] { p, leaky }) v.Shape = null;
            return extraReader ? b.Model(y, leaky) : b.Model(y);
        }
        var m = AssertSameOutputs(() => Build(false), [new FuseActivation(), new DeadNodeElimination()]);
        Assert.Equal([producer], Ops(m));
        Assert.Equal(new FusedActivation(ActivationKind.LeakyReluFloor, 0.2f, floor), FusedActivation.Of(m.Graph.Nodes[0]));
        var kept = AssertSameOutputs(() => Build(true), [new FuseActivation(), new DeadNodeElimination()]);
        Assert.Equal([producer, "Max"], Ops(kept));
        Assert.Equal(ActivationKind.LeakyRelu, FusedActivation.Of(kept.Graph.Nodes[0]).Kind);
    }

    [Fact]
    public void FuseActivationKeepsMaxOfRuntimeOrManyValues()
    {
        var b = new GraphBuilder();
        var p = b.Op("MatMul", b.Input("x", 2, 4), b.Random(1, 4, 5));
        Assert.False(new FuseActivation().Run(b.Model(b.Op("Max", p, b.Input("floor")))));
        var c = new GraphBuilder();
        var q = c.Op("MatMul", c.Input("x", 2, 4), c.Random(1, 4, 5));
        Assert.False(new FuseActivation().Run(c.Model(c.Op("Max", q, c.Random(2, 5)))));
    }

    [Fact]
    public void FuseActivationKeepsClipWithRuntimeBounds()
    {
        var b = new GraphBuilder();
        var p = b.Op("MatMul", b.Input("x", 2, 4), b.Random(1, 4, 5));
        var m = b.Model(b.Op("Clip", p, b.Input("lo")));
        Assert.False(new FuseActivation().Run(m));
    }

    // ---------------------------------------------------------------- the default pipeline

    [Fact]
    public void DefaultPipelineFusesConvThenDecomposedSwish()
    {
        Model Build()
        {
            var b = new GraphBuilder();
            var conv = b.Op("Conv", [b.Input("x", 1, 2, 5, 5), b.Random(1, 4, 2, 1, 1)]);
            var y = b.Op("Mul", conv, b.Op("Sigmoid", conv));
            var shape = b.Op("Concat", [b.Ints(1), b.Op("Mul", b.Ints(5), b.Ints(20))], IR.Attribute.Of("axis", 0L));
            return b.Model(b.Op("Reshape", y, shape));
        }
        var m = AssertSameOutputs(Build, PassPipeline.Default);
        Assert.Equal(["Conv", "Reshape"], Ops(m));
        Assert.Equal(ActivationKind.Swish, FusedActivation.Of(m.Graph.Nodes[0]).Kind);
    }
}
