using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Onnx.Conformance;

public enum TestStatus { Pass, Fail, Unsupported }

/// <summary>Outcome of one backend-test folder. WorstError is the largest |a−b| over all outputs of all data sets.</summary>
public sealed record TestDataResult(string Dir, TestStatus Status, double WorstError, string Message);

/// <summary>
/// Runs folders in the ONNX backend-test layout (model.onnx, test_data_set_*/input_*.pb, output_*.pb).
/// Inputs that are not floating point (shapes, indices, axes, conditions) are given to the session as plan-time
/// constants — EdgeNet plans memory for fixed shapes, and these inputs usually decide shapes.
/// </summary>
public static class TestDataRunner
{
    public static TestDataResult Run(string dir, double rtol = 1e-3, double atol = 1e-4)
    {
        try
        {
            var model = OnnxImporter.Load(Path.Combine(dir, "model.onnx"));
            double worst = 0;
            var sets = Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal).ToArray();
            if (sets.Length == 0) return new(dir, TestStatus.Fail, 0, "no test_data_set_* folders");
            foreach (var set in sets)
            {
                var inputs = ReadNumbered(set, "input_");
                var expected = ReadNumbered(set, "output_");
                var options = new SessionOptions();
                var feeds = new Dictionary<string, Tensor>();
                for (int i = 0; i < inputs.Count; i++)
                {
                    string name = inputs[i].Name.Length > 0 && model.Graph.Inputs.Any(v => v.Name == inputs[i].Name)
                        ? inputs[i].Name
                        : i < model.Graph.Inputs.Count ? model.Graph.Inputs[i].Name : throw new InvalidModelException($"{set}: more inputs than the graph has");
                    var t = inputs[i].Tensor;
                    if (t.DataType is DataType.Float32 or DataType.Float64 or DataType.Float16)
                    {
                        options.InputShapes[name] = t.Dims;
                        feeds[name] = t;
                    }
                    else options.SpecializedInputs[name] = t;
                }
                Tensor[] actual;
                try
                {
                    actual = new Session(model, options).Run(feeds);
                }
                catch (UnsupportedOperatorException e) when (e.Message.Contains("must be known when the session is planned", StringComparison.Ordinal) && feeds.Count > 0)
                {
                    // An op needs a float input's value to plan (Range bounds, a Pad value): fix every input for this data set.
                    foreach (var (name, t) in feeds) { options.InputShapes.Remove(name); options.SpecializedInputs[name] = t; }
                    feeds.Clear();
                    actual = new Session(model, options).Run(feeds);
                }
                if (actual.Length < expected.Count) return new(dir, TestStatus.Fail, worst, $"{actual.Length} outputs, expected {expected.Count}");
                for (int i = 0; i < expected.Count; i++)
                {
                    var (ok, error, message) = Compare(expected[i].Tensor, actual[i], rtol, atol);
                    worst = Math.Max(worst, error);
                    if (!ok) return new(dir, TestStatus.Fail, worst, $"{Path.GetFileName(set)} output {i}: {message}");
                }
            }
            return new(dir, TestStatus.Pass, worst, "");
        }
        catch (UnsupportedOperatorException e) { return new(dir, TestStatus.Unsupported, 0, e.Message); }
        catch (EdgeNetException e) { return new(dir, TestStatus.Fail, 0, $"{e.GetType().Name}: {e.Message}"); }
        catch (Exception e) { return new(dir, TestStatus.Fail, 0, $"{e.GetType().Name}: {e.Message}"); }
    }

    private static List<(string Name, Tensor Tensor)> ReadNumbered(string dir, string prefix)
    {
        var list = new List<(string, Tensor)>();
        for (int i = 0; ; i++)
        {
            string path = Path.Combine(dir, $"{prefix}{i}.pb");
            if (!File.Exists(path)) break;
            list.Add(TensorFiles.ReadPb(path));
        }
        return list;
    }

    /// <summary>Shapes must match exactly; floats within atol + rtol·|expected| (NaN matches NaN); other types exactly.</summary>
    public static (bool Ok, double Worst, string Message) Compare(Tensor expected, Tensor actual, double rtol, double atol)
    {
        if (!expected.Dims.AsSpan().SequenceEqual(actual.Dims))
            return (false, double.PositiveInfinity, $"shape {Shapes.Format(actual.Dims)}, expected {Shapes.Format(expected.Dims)}");
        if (expected.DataType != actual.DataType)
            return (false, double.PositiveInfinity, $"type {actual.DataType}, expected {expected.DataType}");
        bool isFloat = expected.DataType is DataType.Float32 or DataType.Float64 or DataType.Float16;
        double worst = 0;
        for (int i = 0; i < expected.ElementCount; i++)
        {
            double e = expected.GetAsDouble(i), a = actual.GetAsDouble(i);
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (e == a) continue;
            double diff = Math.Abs(a - e);
            if (double.IsNaN(diff)) diff = double.PositiveInfinity;
            worst = Math.Max(worst, diff);
            if (!isFloat || diff > atol + rtol * Math.Abs(e))
                return (false, worst, $"element {i} is {a}, expected {e}");
        }
        return (true, worst, "");
    }
}
