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

    /// <summary>Takes over <paramref name="value"/>'s constant: it is replaced by a pinned copy that training updates.</summary>
    internal TrainParameter(Value value)
    {
        var source = value.Constant ?? throw new InvalidOperationException($"'{value.Name}' is not a constant");
        if (source.DataType != DataType.Float32) throw new UnsupportedOperatorException($"Parameter '{value.Name}' is {source.DataType}; only float32 parameters can be trained");
        _storage = GC.AllocateArray<byte>(source.ElementCount * sizeof(float), pinned: true);
        source.Data.Span.CopyTo(_storage);
        Tensor = new Tensor(DataType.Float32, (int[])source.Dims.Clone(), _storage);
        value.Constant = Tensor;
        Name = value.Name;
        GradArray = GC.AllocateArray<float>(source.ElementCount, pinned: true);
    }

    public string Name { get; }
    /// <summary>The live weights (the model's initializer).</summary>
    public Tensor Tensor { get; }
    public Span<float> Value => MemoryMarshal.Cast<byte, float>(_storage.AsSpan());
    public Span<float> Grad => GradArray;
    public int Count => GradArray.Length;
    internal float[] GradArray { get; }
    internal float* ValuePtr => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
    internal float* GradPtr => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(GradArray));

    public override string ToString() => $"{Name}{Shapes.Format(Tensor.Dims)}";
}
