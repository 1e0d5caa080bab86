using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Planning;

namespace EdgeNet.Tests.Execution;

/// <summary>A Transpose that only moves size-1 axes keeps memory order, so the planner makes it a view (no kernel).</summary>
public class TransposeViewTests
{
    /// <summary>x → Neg → Transpose(perm) → Neg → y.</summary>
    private static Model Model(int[] dims, int[] perm)
    {
        var g = new IR.Graph { Name = "transpose-view" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = dims.Select(d => Dim.Known(d)).ToArray();
        g.Inputs.Add(x);
        Value Add(string op, string name, Value input, params IR.Attribute[] attributes)
        {
            var n = new Node { OpType = op, Name = name };
            n.Inputs.Add(input);
            foreach (var a in attributes) n.SetAttribute(a);
            var y = g.GetOrAddValue(name + "_out");
            n.Outputs.Add(y);
            y.Producer = n;
            g.Nodes.Add(n);
            return y;
        }
        var a = Add("Neg", "a", x);
        var t = Add("Transpose", "t", a, IR.Attribute.Of("perm", perm.Select(p => (long)p).ToArray()));
        var y = Add("Neg", "y", t);
        g.Outputs.Add(y);
        return new Model { Graph = g, Opsets = { [""] = 17 } };
    }

    [Theory]
    [InlineData(new[] { 1, 4, 3 }, new[] { 1, 0, 2 }, true)]    // [1,T,C] → [T,1,C]
    [InlineData(new[] { 4, 1, 3 }, new[] { 1, 0, 2 }, true)]    // and back
    [InlineData(new[] { 2, 1, 3, 1 }, new[] { 3, 0, 2, 1 }, true)]
    [InlineData(new[] { 2, 3, 4 }, new[] { 1, 0, 2 }, false)]   // a real transpose still copies
    [InlineData(new[] { 1, 4, 3 }, new[] { 0, 2, 1 }, false)]
    public void UnitAxisTransposeIsAViewAndGivesTheSameResult(int[] dims, int[] perm, bool view)
    {
        var session = new Session(Model(dims, perm));
        var x = session.Input<float>(0);
        for (int i = 0; i < x.Length; i++) x[i] = i + 1;
        session.Run();
        // y = x transposed (Neg twice)
        var strides = Shapes.Strides(dims);
        var outDims = perm.Select(p => dims[p]).ToArray();
        var expected = new float[x.Length];
        var index = new int[outDims.Length];
        for (int i = 0; i < expected.Length; i++)
        {
            int s = 0;
            for (int d = 0; d < index.Length; d++) s += index[d] * strides[perm[d]];
            expected[i] = s + 1;
            for (int d = index.Length - 1; d >= 0; d--) { if (++index[d] < outDims[d]) break; index[d] = 0; }
        }
        Assert.Equal(expected, session.Output<float>(0).ToArray());
        Assert.Equal(outDims, session.OutputShape(0));
        Assert.Equal(view ? 2 : 3, session.Plan.Steps.Length);
        GreedyMemoryPlanner.Verify(session.Plan.Placements);
    }
}
