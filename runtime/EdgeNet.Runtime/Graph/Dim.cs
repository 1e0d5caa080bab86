namespace EdgeNet.IR;

/// <summary>One dimension of a declared (possibly symbolic) shape: a fixed size, a named symbol like "batch", or unknown.</summary>
public readonly record struct Dim(long Value, string? Symbol)
{
    public static Dim Known(long value) => new(value, null);
    public static Dim Named(string symbol) => new(-1, symbol);
    public static readonly Dim Unknown = new(-1, null);
    public bool IsKnown => Value >= 0;
    public override string ToString() => IsKnown ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Symbol ?? "?";
}

/// <summary>Concrete-shape helpers shared by inference and kernels.</summary>
public static class Shapes
{
    /// <summary>
    /// Largest element count EdgeNet accepts for one tensor: 2^26 (256 MiB of float32), far above any model a small
    /// board runs, and low enough that a hostile shape fails fast instead of exhausting memory.
    /// </summary>
    public const long MaxElements = 1L << 26;

    /// <summary>Product of dims; throws (no overflow, no negatives) so hostile shapes fail with a clear message.</summary>
    public static int Count(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new InvalidModelException($"Negative dimension {d} in shape {Format(dims)}");
            n *= d;
            if (n > MaxElements) throw new InvalidModelException($"Shape {Format(dims)} has more than {MaxElements} elements");
        }
        return (int)n;
    }

    /// <summary>Converts ONNX int64 dims to ints, rejecting negatives and overflow.</summary>
    public static int[] FromLongs(ReadOnlySpan<long> dims, string what)
    {
        var result = new int[dims.Length];
        long n = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = dims[i];
            if (d < 0 || d > int.MaxValue) throw new InvalidModelException($"{what}: dimension {i} is {d}, which is negative or too large");
            n *= Math.Max(d, 1);
            if (n > MaxElements) throw new InvalidModelException($"{what}: shape [{string.Join(",", dims.ToArray())}] has more than {MaxElements} elements");
            result[i] = (int)d;
        }
        return result;
    }

    public static string Format(ReadOnlySpan<int> dims) => "[" + string.Join("x", dims.ToArray()) + "]";

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Row-major strides of a shape.</summary>
    public static int[] Strides(ReadOnlySpan<int> dims)
    {
        var s = new int[dims.Length];
        int acc = 1;
        for (int i = dims.Length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    /// <summary>Normalizes a possibly negative axis against a rank, or throws naming the node.</summary>
    public static int NormalizeAxis(long axis, int rank, Node node)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1)) throw ShapeInferenceException.For(node, $"axis {axis} is out of range for rank {rank}");
        return (int)a;
    }

    /// <summary>Numpy-style broadcast of two shapes, or null when they are incompatible.</summary>
    public static int[]? Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da == db || db == 1) r[i] = da;
            else if (da == 1) r[i] = db;
            else return null;
        }
        return r;
    }
}
