using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeNet.Training.Metrics;

/// <summary>
/// Counts of (actual class, predicted class) pairs, and what follows from them: accuracy, per-class precision and
/// recall, rendered as text (what <c>edgenet evaluate</c> prints) or JSON (<c>--json</c>).
/// A class never predicted has precision 0; a class with no samples has recall 0 (as scikit-learn reports them).
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    public IReadOnlyList<string> Classes { get; }
    public int ClassCount => Classes.Count;

    public ConfusionMatrix(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 0) throw new ArgumentException("at least one class", nameof(classes));
        Classes = [.. classes];
        _counts = new long[classes.Count * classes.Count];
    }

    /// <summary>Records one sample.</summary>
    public void Add(int actual, int predicted)
    {
        if ((uint)actual >= (uint)ClassCount) throw new ArgumentOutOfRangeException(nameof(actual), actual, $"class index out of 0..{ClassCount - 1}");
        if ((uint)predicted >= (uint)ClassCount) throw new ArgumentOutOfRangeException(nameof(predicted), predicted, $"class index out of 0..{ClassCount - 1}");
        _counts[actual * ClassCount + predicted]++;
    }

    /// <summary>Records one sample from its scores (logits or probabilities): the prediction is the arg-max (first on ties).</summary>
    public int AddScores(int actual, ReadOnlySpan<float> scores)
    {
        if (scores.Length != ClassCount) throw new ArgumentException($"{scores.Length} scores for {ClassCount} classes", nameof(scores));
        int best = 0;
        for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[best]) best = i;
        Add(actual, best);
        return best;
    }

    public long this[int actual, int predicted] => _counts[actual * ClassCount + predicted];

    public long Total
    {
        get
        {
            long n = 0;
            foreach (long c in _counts) n += c;
            return n;
        }
    }

    public long Correct
    {
        get
        {
            long n = 0;
            for (int i = 0; i < ClassCount; i++) n += this[i, i];
            return n;
        }
    }

    /// <summary>Correct / total; 0 for an empty matrix.</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Samples whose actual class is <paramref name="c"/>.</summary>
    public long Support(int c)
    {
        long n = 0;
        for (int p = 0; p < ClassCount; p++) n += this[c, p];
        return n;
    }

    /// <summary>Of the samples predicted as <paramref name="c"/>, the fraction that are <paramref name="c"/>.</summary>
    public double Precision(int c)
    {
        long predicted = 0;
        for (int a = 0; a < ClassCount; a++) predicted += this[a, c];
        return predicted == 0 ? 0 : (double)this[c, c] / predicted;
    }

    /// <summary>Of the samples of class <paramref name="c"/>, the fraction predicted as <paramref name="c"/>.</summary>
    public double Recall(int c)
    {
        long support = Support(c);
        return support == 0 ? 0 : (double)this[c, c] / support;
    }

    /// <summary>
    /// JSON: <c>{"accuracy", "samples", "correct", "classes": [{"name", "precision", "recall", "support"}],
    /// "confusion": [[row of actual class 0], ...]}</c>.
    /// </summary>
    public string ToJson(bool indented = true)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            w.WriteNumber("accuracy", Accuracy);
            w.WriteNumber("samples", Total);
            w.WriteNumber("correct", Correct);
            w.WriteStartArray("classes");
            for (int c = 0; c < ClassCount; c++)
            {
                w.WriteStartObject();
                w.WriteString("name", Classes[c]);
                w.WriteNumber("precision", Precision(c));
                w.WriteNumber("recall", Recall(c));
                w.WriteNumber("support", Support(c));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("confusion");
            for (int a = 0; a < ClassCount; a++)
            {
                w.WriteStartArray();
                for (int p = 0; p < ClassCount; p++) w.WriteNumberValue(this[a, p]);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// Text: an accuracy line, a per-class table (precision, recall, support) and the confusion matrix with actual
    /// classes as rows and predicted classes as columns.
    /// </summary>
    public string ToText()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"accuracy: {Accuracy * 100:F2}% ({Correct}/{Total})\n\n");
        int nameWidth = Math.Max(5, Classes.Max(c => c.Length));
        sb.Append("class".PadRight(nameWidth)).Append("  precision     recall    support\n");
        for (int c = 0; c < ClassCount; c++)
            sb.Append(Classes[c].PadRight(nameWidth)).Append(inv, $"  {Precision(c) * 100,8:F2}%  {Recall(c) * 100,8:F2}%  {Support(c),9}\n");
        sb.Append("\nconfusion matrix (rows: actual, columns: predicted)\n");
        int cell = Math.Max(Classes.Max(c => c.Length), _counts.Length == 0 ? 1 : _counts.Max().ToString(inv).Length) + 1;
        sb.Append(new string(' ', nameWidth));
        foreach (var c in Classes) sb.Append(c.PadLeft(cell));
        sb.Append('\n');
        for (int a = 0; a < ClassCount; a++)
        {
            sb.Append(Classes[a].PadRight(nameWidth));
            for (int p = 0; p < ClassCount; p++) sb.Append(this[a, p].ToString(inv).PadLeft(cell));
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
