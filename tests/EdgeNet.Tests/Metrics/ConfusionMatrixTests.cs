using System.Text.Json;
using EdgeNet.Training.Metrics;

namespace EdgeNet.Tests.Metrics;

public class ConfusionMatrixTests
{
    private static ConfusionMatrix Sample()
    {
        // actual cat: 3 → cat, 1 → dog; actual dog: 2 → dog, 2 → cat; actual fox: 1 → fox, 1 → dog.
        var m = new ConfusionMatrix(["cat", "dog", "fox"]);
        foreach (var (a, p, n) in new[] { (0, 0, 3), (0, 1, 1), (1, 1, 2), (1, 0, 2), (2, 2, 1), (2, 1, 1) })
            for (int i = 0; i < n; i++) m.Add(a, p);
        return m;
    }

    [Fact]
    public void AccuracyPrecisionRecallFollowTheCounts()
    {
        var m = Sample();
        Assert.Equal(10, m.Total);
        Assert.Equal(6, m.Correct);
        Assert.Equal(0.6, m.Accuracy, 12);
        Assert.Equal(3.0 / 5, m.Precision(0), 12); // predicted cat: 3 cat + 2 dog
        Assert.Equal(2.0 / 4, m.Precision(1), 12); // predicted dog: 1 cat + 2 dog + 1 fox
        Assert.Equal(1.0, m.Precision(2), 12);
        Assert.Equal(3.0 / 4, m.Recall(0), 12);
        Assert.Equal(2.0 / 4, m.Recall(1), 12);
        Assert.Equal(1.0 / 2, m.Recall(2), 12);
        Assert.Equal(2, m[1, 0]);
    }

    [Fact]
    public void EmptyClassesAndArgMax()
    {
        var m = new ConfusionMatrix(["a", "b"]);
        Assert.Equal(0, m.Accuracy);
        Assert.Equal(1, m.AddScores(0, [0.1f, 0.9f]));
        Assert.Equal(0, m.AddScores(0, [0.5f, 0.5f])); // ties go to the first
        Assert.Equal(0.0, m.Precision(1) * 0 + m.Recall(1)); // no sample of b: recall 0
        Assert.Equal(0.5, m.Precision(0) * 0.5, 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(0, -1));
        Assert.Throws<ArgumentException>(() => m.AddScores(0, [1f]));
    }

    [Fact]
    public void JsonHasAccuracyClassesAndMatrix()
    {
        using var doc = JsonDocument.Parse(Sample().ToJson());
        var root = doc.RootElement;
        Assert.Equal(0.6, root.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(10, root.GetProperty("samples").GetInt64());
        var classes = root.GetProperty("classes");
        Assert.Equal(3, classes.GetArrayLength());
        Assert.Equal("dog", classes[1].GetProperty("name").GetString());
        Assert.Equal(0.5, classes[1].GetProperty("precision").GetDouble(), 12);
        Assert.Equal(4, classes[1].GetProperty("support").GetInt64());
        Assert.Equal(2, root.GetProperty("confusion")[1][0].GetInt64());
    }

    [Fact]
    public void TextShowsAccuracyTableAndMatrix()
    {
        var lines = Sample().ToText().Split('\n');
        Assert.Equal("accuracy: 60.00% (6/10)", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("dog", StringComparison.Ordinal) && l.Contains("50.00%", StringComparison.Ordinal) && l.TrimEnd().EndsWith('4'));
        int header = Array.FindIndex(lines, l => l.StartsWith("confusion matrix", StringComparison.Ordinal));
        Assert.Equal(["cat", "dog", "fox"], lines[header + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["dog", "2", "2", "0"], lines[header + 3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
