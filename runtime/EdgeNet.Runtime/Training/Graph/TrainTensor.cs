using System.Runtime.InteropServices;
using EdgeNet.IR;

namespace EdgeNet.Training;

/// <summary>
/// A value of the trainable graph: a mini-batch of samples of <see cref="SampleShape"/>, batch first, and (when a
/// trainable parameter lies upstream) its gradient. Both live in the <see cref="TrainArena"/>.
/// </summary>
public sealed unsafe class TrainTensor
{
    internal TrainTensor(string name, int[] sampleShape)
    {
        Name = name;
        SampleShape = sampleShape;
        SampleSize = Shapes.Count(sampleShape);
    }

    public string Name { get; }
    /// <summary>Shape of one sample (the batch dimension removed).</summary>
    public int[] SampleShape { get; }
    public int SampleSize { get; }
    /// <summary>True when the backward pass computes this value's gradient.</summary>
    public bool NeedsGrad { get; internal set; }
    /// <summary>Layers that read this value; with more than one, their gradient contributions are summed.</summary>
    internal int Consumers { get; set; }
    /// <summary>True when layers add into the gradient (it was zeroed first) instead of writing it.</summary>
    internal bool AccumulateGrad => Consumers > 1;

    internal TrainArena? Arena { get; set; }
    internal int DataOffset { get; set; } = -1;
    internal int GradOffset { get; set; } = -1;

    public Span<float> Data(int batch) => Arena!.Span(DataOffset, batch * SampleSize);
    public Span<float> Grad(int batch) => GradOffset < 0 ? throw new InvalidOperationException($"'{Name}' has no gradient") : Arena!.Span(GradOffset, batch * SampleSize);
    internal float* DataPtr => Arena!.Pointer(DataOffset);
    internal float* GradPtr => Arena!.Pointer(GradOffset);

    public override string ToString() => $"{Name}{Shapes.Format(SampleShape)}";
}

/// <summary>
/// A trainable parameter: the float initializer of the model (updated in place, so the model sees the new weights)
/// and its gradient of the current step.
/// </summary>
public sealed unsafe class TrainParameter
{
    private readonly byte[] _storage;
    private readonly Value _value;

    /// <summary>Takes over <paramref name="value"/>'s constant: it is replaced by a pinned copy that training updates.</summary>
    internal TrainParameter(Value value)
    {
        var source = value.Constant ?? throw new InvalidOperationException($"'{value.Name}' is not a constant");
        if (source.DataType != DataType.Float32) throw new UnsupportedOperatorException($"Parameter '{value.Name}' is {source.DataType}; only float32 parameters can be trained");
        _storage = GC.AllocateArray<byte>(source.ElementCount * sizeof(float), pinned: true);
        source.Data.Span.CopyTo(_storage);
        Tensor = new Tensor(DataType.Float32, (int[])source.Dims.Clone(), _storage);
        value.Constant = Tensor;
        _value = value;
        Name = value.Name;
        GradArray = GC.AllocateArray<float>(source.ElementCount, pinned: true);
    }

    public string Name { get; }
    /// <summary>The live weights (the model's initializer).</summary>
    public Tensor Tensor { get; private set; }
    /// <summary>True when training stores this 2-D weight transposed from the model it was loaded from (see
    /// <see cref="StoreTransposed"/>); the model's node was changed to match, so the model computes the same.</summary>
    public bool Transposed { get; private set; }
    public Span<float> Value => MemoryMarshal.Cast<byte, float>(_storage.AsSpan());
    public Span<float> Grad => GradArray;
    public int Count => GradArray.Length;
    internal float[] GradArray { get; }
    internal float* ValuePtr => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
    internal float* GradPtr => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(GradArray));

    /// <summary>
    /// Stores this 2-D weight transposed (rows × cols becomes cols × rows, same floats) and makes it the model's
    /// initializer with the new dims. The caller changes the consuming node to match (a Gemm's transB flipped).
    /// </summary>
    internal void StoreTransposed()
    {
        if (Tensor.Rank != 2) throw new InvalidOperationException($"'{Name}' is not 2-D");
        int rows = Tensor.Dims[0], cols = Tensor.Dims[1];
        var values = Value;
        var copy = values.ToArray();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) values[c * rows + r] = copy[r * cols + c];
        Tensor = new Tensor(DataType.Float32, [cols, rows], _storage);
        _value.Constant = Tensor;
        if (_value.Shape is { Length: 2 } shape) _value.Shape = [shape[1], shape[0]];
        Transposed = !Transposed;
    }

    public override string ToString() => $"{Name}{Shapes.Format(Tensor.Dims)}";
}
