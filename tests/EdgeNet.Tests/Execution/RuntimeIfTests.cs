using EdgeNet.Tests.Support;
using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Tests.Execution;

public class RuntimeIfTests
{
    private static readonly TestOpsScope s_ops = new();

    /// <summary>y = cond ? x+1 : (x+1)+1, with x captured by both branches and cond only known at run time.</summary>
    private static Model Gate()
    {
        _ = s_ops;
        var g = new IR.Graph();
        var cond = g.GetOrAddValue("cond");
        cond.DataType = DataType.Bool;
        cond.Shape = [];
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = [Dim.Known(4)];
        g.Inputs.Add(cond);
        g.Inputs.Add(x);

        IR.Graph Branch(int steps)
        {
            var b = new IR.Graph { Name = $"b{steps}" };
            Value v = x;
            for (int i = 0; i < steps; i++)
            {
                var n = new Node { OpType = "AddOne", Domain = "test", Name = $"b{steps}_{i}" };
                n.Inputs.Add(v);
                v = b.GetOrAddValue($"b{steps}_v{i}");
                n.Outputs.Add(v);
                v.Producer = n;
                b.Nodes.Add(n);
            }
            b.Outputs.Add(v);
            return b;
        }
        var ifNode = new Node { OpType = "If", Name = "gate" };
        ifNode.Inputs.Add(cond);
        ifNode.SetAttribute(IR.Attribute.Of("then_branch", Branch(1)));
        ifNode.SetAttribute(IR.Attribute.Of("else_branch", Branch(2)));
        var y = g.GetOrAddValue("y");
        ifNode.Outputs.Add(y);
        y.Producer = ifNode;
        g.Nodes.Add(ifNode);
        g.Outputs.Add(y);
        return new Model { Graph = g };
    }

    [Fact]
    public void ChoosesTheBranchAtRunTimeWithoutAllocating()
    {
        var s = new Session(Gate());
        new float[] { 1, 2, 3, 4 }.CopyTo(s.Input<float>(1));
        s.Input<byte>(0)[0] = 1;
        s.Run();
        Assert.Equal(new float[] { 2, 3, 4, 5 }, s.Output<float>(0).ToArray());
        s.Input<byte>(0)[0] = 0;
        s.Run();
        Assert.Equal(new float[] { 3, 4, 5, 6 }, s.Output<float>(0).ToArray());

        int i = 0;
        Allocations.AssertNoneAfterWarmUp(() => { s.Input<byte>(0)[0] = (byte)(i++ & 1); s.Run(); });
    }

    [Fact]
    public void ConstantConditionIsInlined()
    {
        var options = new SessionOptions();
        options.SpecializedInputs["cond"] = Tensor.FromArray([], new[] { true });
        var s = new Session(Gate(), options);
        new float[] { 1, 2, 3, 4 }.CopyTo(s.Input<float>(1));
        s.Run();
        Assert.Equal(new float[] { 2, 3, 4, 5 }, s.Output<float>(0).ToArray());
        Assert.Single(s.Plan.Steps);
        Assert.Equal("AddOne", s.Plan.Steps[0].Node.OpType);
    }
}
