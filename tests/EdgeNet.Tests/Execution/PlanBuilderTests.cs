using EdgeNet.Tests.Support;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Planning;

namespace EdgeNet.Tests.Execution;

public class PlanBuilderTests
{
    private static readonly TestOpsScope s_ops = new();

    /// <summary>x → AddOne → a → AddOne → b → View → c(output); plus Sum2(a, const) → d(output).</summary>
    private static Model Chain()
    {
        _ = s_ops;
        var g = new IR.Graph { Name = "chain" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = [Dim.Named("n"), Dim.Known(3)];
        g.Inputs.Add(x);
        var k = g.AddConstant("k", Tensor.FromArray([1, 3], new float[] { 10, 20, 30 }));
        Value Add(string op, string name, params Value[] inputs)
        {
            var n = new Node { OpType = op, Domain = "test", Name = name };
            n.Inputs.AddRange(inputs);
            var y = g.GetOrAddValue(name + "_out");
            n.Outputs.Add(y);
            y.Producer = n;
            g.Nodes.Add(n);
            return y;
        }
        var a = Add("AddOne", "a", x);
        var b = Add("AddOne", "b", a);
        var c = Add("View", "c", b);
        var d = Add("Sum2", "d", a, k);
        var e = Add("AddOne", "e", k); // folded at plan time
        g.Outputs.Add(c);
        g.Outputs.Add(d);
        g.Outputs.Add(e);
        return new Model { Graph = g };
    }

    [Fact]
    public void RunsFoldsAndBindsSymbolicDims()
    {
        var options = new SessionOptions();
        options.InputShapes["x"] = [1, 3];
        var s = new Session(Chain(), options);
        new float[] { 1, 2, 3 }.CopyTo(s.Input<float>(0));
        s.Run();
        Assert.Equal(new float[] { 3, 4, 5 }, s.Output<float>(0).ToArray());
        Assert.Equal(new[] { 3 }, s.OutputShape(0));
        Assert.Equal(new float[] { 12, 23, 34 }, s.Output<float>(1).ToArray());
        Assert.Equal(new float[] { 11, 21, 31 }, s.Output<float>(2).ToArray());
        Assert.Equal(3, s.Plan.Steps.Length); // AddOne, AddOne, Sum2: the view and the constant node run no kernel
        GreedyMemoryPlanner.Verify(s.Plan.Placements);
    }

    [Fact]
    public void NewInputShapeGetsItsOwnCachedPlan()
    {
        var s = new Session(Chain());
        var first = s.Plan;
        s.SetInputShape("x", [4, 3]);
        Assert.NotSame(first, s.Plan);
        var second = s.Plan;
        Assert.Equal(12, s.Input<float>(0).Length);
        s.SetInputShape("x", [1, 3]);
        Assert.Same(first, s.Plan);
        s.SetInputShape("x", [4, 3]);
        Assert.Same(second, s.Plan);
    }

    [Fact]
    public void WrongShapeOrTypeIsRejectedWithNames()
    {
        var s = new Session(Chain());
        var ex = Assert.Throws<InputMismatchException>(() => s.SetInputShape("x", [2, 5]));
        Assert.Contains("'x'", ex.Message);
        Assert.Contains("nx3", ex.Message);
        Assert.Throws<InputMismatchException>(() => s.Input<long>(0));
        Assert.Throws<InputMismatchException>(() => s.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 3], new long[] { 1, 2, 3 }) }));
        Assert.Throws<InputMismatchException>(() => s.InputIndex("nope"));
    }

    private static Model AddOneChain(int length)
    {
        _ = s_ops;
        var g = new IR.Graph();
        var v = g.GetOrAddValue("x");
        v.DataType = DataType.Float32;
        v.Shape = [Dim.Known(5)];
        g.Inputs.Add(v);
        for (int i = 0; i < length; i++)
        {
            var n = new Node { OpType = "AddOne", Domain = "test", Name = $"n{i}" };
            n.Inputs.Add(v);
            v = g.GetOrAddValue($"y{i}");
            n.Outputs.Add(v);
            v.Producer = n;
            g.Nodes.Add(n);
        }
        g.Outputs.Add(v);
        return new Model { Graph = g };
    }

    [Fact]
    public void InPlaceReusesTheDyingInputBuffer()
    {
        // x is a graph input (never overwritten); y0 dies at n1, so y1..y3 all live in y0's buffer.
        var s = new Session(AddOneChain(4));
        Assert.Equal(2, s.Plan.Placements.Length);
        new float[] { 1, 2, 3, 4, 5 }.CopyTo(s.Input<float>(0));
        s.Run();
        Assert.Equal(new float[] { 5, 6, 7, 8, 9 }, s.Output<float>(0).ToArray());
        Assert.Equal(new float[] { 1, 2, 3, 4, 5 }, s.Input<float>(0).ToArray());

        var off = new Session(AddOneChain(4), new SessionOptions { AllowInPlace = false });
        Assert.Equal(5, off.Plan.Placements.Length);
        GreedyMemoryPlanner.Verify(off.Plan.Placements);
        Assert.True(off.Plan.ArenaBytes > s.Plan.ArenaBytes);
    }

    [Fact]
    public void RunAllocatesNothingAfterWarmUp()
    {
        var s = new Session(Chain());
        s.Run();
        int i = 0;
        Allocations.AssertNoneAfterWarmUp(() =>
        {
            s.Input<float>(0)[0] = i++;
            s.Run();
            _ = s.Output<float>(0)[0];
        });
    }

    [Fact]
    public void KeepAliveValuesSurviveUntilTheEnd()
    {
        var options = new SessionOptions();
        options.KeepAlive.Add("a_out");
        var s = new Session(Chain(), options);
        new float[] { 1, 2, 3 }.CopyTo(s.Input<float>(0));
        s.Run();
        var a = s.Model.Graph.Values["a_out"];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(s.Plan.MemoryOf(a).Span);
        Assert.Equal(new float[] { 2, 3, 4 }, bytes.ToArray());
    }
}
