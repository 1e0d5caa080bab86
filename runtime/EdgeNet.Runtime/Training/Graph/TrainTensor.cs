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
/// <remarks>
/// A first trained layer's K×N weight may be kept in NR-column panels while training (<see cref="StoreInPanels"/>):
/// its forward product then reads contiguous panels instead of rows 512 bytes apart. The panels are the working
/// copy; the model's initializer is brought up to date from them whenever <see cref="Value"/> or
/// <see cref="Tensor"/> is read (and by the trainer at the end of each step it is asked for, each epoch and each fit),
/// and the panels again from it after it was handed out, so every reader sees the current weights in the model's
/// layout. <see cref="Grad"/> and the optimizer state follow the working layout.
/// </remarks>
public sealed unsafe class TrainParameter
{
    private readonly byte[] _storage;
    private readonly Value _value;
    private Tensor _tensor;
    private float[]? _panels;
    private int _panelWidth;
    // the panels hold updates the model's initializer lacks / the initializer was handed out (and may have been
    // written) since the panels were made from it; never both
    private bool _panelsAhead, _valueHandedOut;

    /// <summary>Takes over <paramref name="value"/>'s constant: it is replaced by a pinned copy that training updates.</summary>
    internal TrainParameter(Value value)
    {
        var source = value.Constant ?? throw new InvalidOperationException($"'{value.Name}' is not a constant");
        if (source.DataType != DataType.Float32) throw new UnsupportedOperatorException($"Parameter '{value.Name}' is {source.DataType}; only float32 parameters can be trained");
        _storage = GC.AllocateArray<byte>(source.ElementCount * sizeof(float), pinned: true);
        source.Data.Span.CopyTo(_storage);
        _tensor = new Tensor(DataType.Float32, (int[])source.Dims.Clone(), _storage);
        value.Constant = _tensor;
        _value = value;
        Name = value.Name;
        GradArray = GC.AllocateArray<float>(source.ElementCount, pinned: true);
    }

    public string Name { get; }
    /// <summary>The live weights (the model's initializer), current when read.</summary>
    public Tensor Tensor
    {
        get
        {
            HandOutValue();
            return _tensor;
        }
    }
    /// <summary>Dims of the weight in the model (no synchronisation).</summary>
    internal int[] Dims => _tensor.Dims;
    /// <summary>True when training stores this 2-D weight transposed from the model it was loaded from (see
    /// <see cref="StoreTransposed"/>); the model's node was changed to match, so the model computes the same.</summary>
    public bool Transposed { get; private set; }
    /// <summary>The live weights in the model's layout, current when read (writes reach training).</summary>
    public Span<float> Value
    {
        get
        {
            HandOutValue();
            return MemoryMarshal.Cast<byte, float>(_storage.AsSpan());
        }
    }
    public Span<float> Grad => GradArray;
    public int Count => GradArray.Length;
    internal float[] GradArray { get; }
    /// <summary>The model's initializer, not synchronised: for parameters never kept in panels.</summary>
    internal float* ValuePtr => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
    internal float* GradPtr => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(GradArray));

    /// <summary>True when the working copy is in panels of <see cref="PanelWidth"/> columns.</summary>
    internal bool InPanels => _panels is not null;
    internal int PanelWidth => _panelWidth;

    /// <summary>The weights in the working layout, for the optimizer to update (the model's copy is then behind).</summary>
    internal Span<float> Working
    {
        get
        {
            if (_panels is null) return MemoryMarshal.Cast<byte, float>(_storage.AsSpan());
            RefreshPanels();
            _panelsAhead = true;
            return _panels;
        }
    }

    /// <summary>The weights in the working layout, to read.</summary>
    internal float* WorkingPtr
    {
        get
        {
            if (_panels is null) return ValuePtr;
            RefreshPanels();
            return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_panels));
        }
    }

    /// <summary>
    /// Keeps this K×N weight (2-D, N a multiple of <paramref name="width"/>) as panels of <paramref name="width"/>
    /// columns while training: panel p holds rows 0..K of columns [p·width, (p+1)·width), row after row. The
    /// gradient and optimizer state take the same layout; call before the first step.
    /// </summary>
    internal void StoreInPanels(int width)
    {
        if (_tensor.Rank != 2 || width <= 0 || _tensor.Dims[1] % width != 0) throw new InvalidOperationException($"'{Name}' {Shapes.Format(_tensor.Dims)} cannot be kept in panels of {width}");
        _panelWidth = width;
        _panels = GC.AllocateArray<float>(Count, pinned: true);
        _valueHandedOut = true;
        RefreshPanels();
    }

    /// <summary>Brings the model's initializer up to date with the working panels (nothing to do otherwise).</summary>
    internal void SyncModel()
    {
        if (!_panelsAhead) return;
        int k = _tensor.Dims[0], n = _tensor.Dims[1], w = _panelWidth;
        var value = MemoryMarshal.Cast<byte, float>(_storage.AsSpan());
        for (int p = 0; p < n / w; p++)
            for (int r = 0; r < k; r++)
                _panels.AsSpan((p * k + r) * w, w).CopyTo(value.Slice(r * n + p * w, w));
        _panelsAhead = false;
    }

    private void HandOutValue()
    {
        if (_panels is null) return;
        SyncModel();
        _valueHandedOut = true;
    }

    private void RefreshPanels()
    {
        if (!_valueHandedOut) return;
        int k = _tensor.Dims[0], n = _tensor.Dims[1], w = _panelWidth;
        var value = MemoryMarshal.Cast<byte, float>(_storage.AsSpan());
        for (int p = 0; p < n / w; p++)
            for (int r = 0; r < k; r++)
                value.Slice(r * n + p * w, w).CopyTo(_panels.AsSpan((p * k + r) * w, w));
        _valueHandedOut = false;
    }

    /// <summary>
    /// Stores this 2-D weight transposed (rows × cols becomes cols × rows, same floats) and makes it the model's
    /// initializer with the new dims. The caller changes the consuming node to match (a Gemm's transB flipped).
    /// </summary>
    internal void StoreTransposed()
    {
        if (_tensor.Rank != 2) throw new InvalidOperationException($"'{Name}' is not 2-D");
        if (_panels is not null) throw new InvalidOperationException($"'{Name}' is kept in panels");
        int rows = _tensor.Dims[0], cols = _tensor.Dims[1];
        var values = Value;
        var copy = values.ToArray();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) values[c * rows + r] = copy[r * cols + c];
        _tensor = new Tensor(DataType.Float32, [cols, rows], _storage);
        _value.Constant = _tensor;
        if (_value.Shape is { Length: 2 } shape) _value.Shape = [shape[1], shape[0]];
        Transposed = !Transposed;
    }

    public override string ToString() => $"{Name}{Shapes.Format(_tensor.Dims)}";
}
