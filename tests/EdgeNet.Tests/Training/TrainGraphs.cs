using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Training;
using Attribute = EdgeNet.IR.Attribute;

namespace EdgeNet.Tests.Training;

/// <summary>Builds small IR graphs (input "x") for the training tests.</summary>
internal sealed class GraphBuilder
{
    private readonly Random _random;
    private int _next;

    public GraphBuilder(int seed = 1)
    {
        _random = new Random(seed);
        X = Graph.GetOrAddValue("x");
        X.DataType = DataType.Float32;
        Graph.Inputs.Add(X);
    }

    public IR.Graph Graph { get; } = new();
    public Value X { get; }

    public Value Const(int[] dims, float scale = 1, float offset = 0)
    {
        var data = new float[Shapes.Count(dims)];
        for (int i = 0; i < data.Length; i++) data[i] = offset + scale * (float)(_random.NextDouble() * 2 - 1);
        return Graph.AddConstant("c" + _next++, Tensor.FromArray(dims, data));
    }

    public Value Const(int[] dims, float[] data) => Graph.AddConstant("c" + _next++, Tensor.FromArray(dims, data));

    public Value Op(string opType, Value?[] inputs, params Attribute[] attributes)
    {
        var output = Graph.GetOrAddValue(opType.ToLowerInvariant() + _next++);
        output.DataType = DataType.Float32;
        var node = new Node { OpType = opType, Name = output.Name, OpsetVersion = 17 };
        node.Inputs.AddRange(inputs);
        node.Outputs.Add(output);
        foreach (var a in attributes) node.SetAttribute(a);
        output.Producer = node;
        Graph.Nodes.Add(node);
        return output;
    }

    public Node NodeOf(Value v) => v.Producer!;

    public Model Model(Value output, int[] inputShape)
    {
        X.Shape = Array.ConvertAll(inputShape, d => Dim.Known(d));
        Graph.Outputs.Clear();
        Graph.Outputs.Add(output);
        var m = new Model { Graph = Graph };
        m.Opsets[""] = 17;
        return m;
    }

    public TrainableGraph Trainable(Value output, int[] sampleShape, int maxBatch, Isa? isa = null, bool trainBatchNorm = false) =>
        TrainableGraph.Build(Graph, "x", sampleShape, output.Name, new TrainableGraphOptions
        {
            MaxBatch = maxBatch, Isa = isa, InputGradient = true, TrainBatchNorm = trainBatchNorm, Seed = 3,
        });
}

/// <summary>Central finite differences of L = Σ y·r (accumulated in double) against the backward pass.</summary>
internal static class GradientCheck
{
    public static void Run(TrainableGraph graph, int batch, int seed, bool training = false, float low = -2, float high = 2,
        Func<float, float>? adjustInput = null, double epsilon = 1e-3, double tolerance = 1e-2)
    {
        var random = new Random(seed);
        var x = graph.Input.Data(batch);
        for (int i = 0; i < x.Length; i++)
        {
            float v = low + (high - low) * random.NextSingle();
            x[i] = adjustInput is null ? v : adjustInput(v);
        }
        graph.Forward(batch, training);
        var r = new float[batch * graph.Output.SampleSize];
        for (int i = 0; i < r.Length; i++) r[i] = random.NextSingle() * 2 - 1;
        r.CopyTo(graph.Output.Grad(batch));
        graph.Backward(batch);
        var analyticInput = graph.Input.Grad(batch).ToArray();
        var analyticParams = graph.Parameters.Select(p => p.Grad.ToArray()).ToArray();

        double Loss()
        {
            graph.Forward(batch, training);
            var y = graph.Output.Data(batch);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += (double)y[i] * r[i];
            return s;
        }

        Compare("input", analyticInput, NumericOnSpan(x.Length, _ => graph.Input.Data(batch), Loss, epsilon), tolerance);
        for (int p = 0; p < graph.Parameters.Count; p++)
        {
            var parameter = graph.Parameters[p];
            Compare(parameter.Name, analyticParams[p], NumericOnSpan(parameter.Count, _ => parameter.Value, Loss, epsilon), tolerance);
        }
    }

    private delegate Span<float> SpanOf(int unused);

    private static double[] NumericOnSpan(int count, SpanOf values, Func<double> loss, double epsilon)
    {
        var result = new double[count];
        for (int i = 0; i < count; i++)
        {
            float v0 = values(0)[i];
            values(0)[i] = (float)(v0 + epsilon);
            double plus = loss();
            values(0)[i] = (float)(v0 - epsilon);
            double minus = loss();
            values(0)[i] = v0;
            result[i] = (plus - minus) / (2 * epsilon);
        }
        return result;
    }

    private static void Compare(string what, float[] analytic, double[] numeric, double tolerance)
    {
        Assert.Equal(numeric.Length, analytic.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < analytic.Length; i++)
        {
            diff += (analytic[i] - numeric[i]) * (analytic[i] - numeric[i]);
            norm += Math.Max(analytic[i] * analytic[i], numeric[i] * numeric[i]);
        }
        double relative = Math.Sqrt(diff) / Math.Max(1e-6, Math.Sqrt(norm));
        Assert.True(norm > 1e-12, $"{what}: the gradient is all zero, the check proves nothing");
        Assert.True(relative < tolerance, $"{what}: relative error {relative:E2} between the backward pass and finite differences");
    }
}
