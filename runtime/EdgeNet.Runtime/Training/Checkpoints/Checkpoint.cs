using EdgeNet.Format;
using EdgeNet.IR;

namespace EdgeNet.Training.Checkpoints;

/// <summary>A named float tensor saved beside the model (optimizer state: momentum, Adam moments, ...).</summary>
public sealed record NamedTensor(int[] Dims, float[] Data)
{
    /// <summary>Checks that <see cref="Data"/> holds exactly the product of <see cref="Dims"/> floats.</summary>
    public void Validate(string name)
    {
        long n = 1;
        foreach (int d in Dims)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}' has a negative dimension");
            n *= d;
        }
        if (n != Data.Length) throw new ArgumentException($"tensor '{name}': dims [{string.Join(",", Dims)}] need {n} floats, it has {Data.Length}");
    }
}

/// <summary>
/// What one checkpoint holds: the model as an <c>.enet</c> file's bytes, named float tensors (optimizer state) and
/// string metadata (epoch, step, seed, learning rate, ...). <see cref="Sequence"/> is set by the store on save.
/// </summary>
public sealed class Checkpoint
{
    public required byte[] ModelBytes { get; init; }
    public Dictionary<string, NamedTensor> Tensors { get; init; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Metadata { get; init; } = new(StringComparer.Ordinal);
    public long Sequence { get; internal set; }

    /// <summary>A checkpoint of <paramref name="model"/> (serialized now, so later weight updates do not change it).</summary>
    public static Checkpoint FromModel(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Checkpoint { ModelBytes = ModelToBytes(model) };
    }

    /// <summary>The bytes of <paramref name="model"/> as an .enet file.</summary>
    public static byte[] ModelToBytes(Model model)
    {
        string temp = Path.Combine(Path.GetTempPath(), $"edgenet-ckpt-{Environment.ProcessId}-{Guid.NewGuid():N}.enet");
        try
        {
            EnetWriter.Write(model, temp);
            return File.ReadAllBytes(temp);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>Loads the saved model (its bytes were checked when the checkpoint was read).</summary>
    public Model LoadModel()
    {
        string temp = Path.Combine(Path.GetTempPath(), $"edgenet-ckpt-{Environment.ProcessId}-{Guid.NewGuid():N}.enet");
        File.WriteAllBytes(temp, ModelBytes);
        try
        {
            return EnetReader.Load(temp); // the weights stay mapped after the file's name is gone (POSIX)
        }
        finally
        {
            if (!OperatingSystem.IsWindows()) TryDelete(temp);
        }
    }

    /// <summary>Metadata as a number, or <paramref name="fallback"/> when absent.</summary>
    public long GetLong(string key, long fallback = 0) =>
        Metadata.TryGetValue(key, out var v) && long.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long r) ? r : fallback;

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
