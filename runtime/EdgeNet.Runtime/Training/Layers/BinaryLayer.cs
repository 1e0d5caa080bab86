namespace EdgeNet.Training.Layers;

public enum BinaryKind { Add, Sub, Mul, Div }

/// <summary>One operand of a <see cref="BinaryLayer"/>: a runtime value, a frozen constant, or a trainable parameter.</summary>
public sealed class BinaryOperand
{
    public TrainTensor? Tensor { get; init; }
    public float[]? Constant { get; init; }
    public TrainParameter? Parameter { get; init; }
    /// <summary>Shape for broadcasting: a runtime value's full shape is [batch, ...sample]; a constant's is its own.</summary>
    public required int[] Shape { get; init; }
}

/// <summary>
/// Add / Sub / Mul / Div with NumPy broadcasting of constants (a bias, a scale) over the batch, or of two runtime values
/// of the same batch. y = f(a, b); da = dy·∂f/∂a and db = dy·∂f/∂b, summed over broadcast positions.
/// </summary>
public sealed class BinaryLayer : TrainLayer
{
    private readonly BinaryKind _kind;
    private readonly BinaryOperand _a, _b;
    private readonly int[] _mapA, _mapB;

    public BinaryLayer(string name, BinaryKind kind, BinaryOperand a, BinaryOperand b)
        : base(name, Runtime(a, b), OutputShape(name, a, b))
    {
        _kind = kind; _a = a; _b = b;
        _mapA = Map(a, Output.SampleShape);
        _mapB = Map(b, Output.SampleShape);
    }

    private static TrainTensor[] Runtime(BinaryOperand a, BinaryOperand b)
    {
        var list = new List<TrainTensor>(2);
        if (a.Tensor is not null) list.Add(a.Tensor);
        if (b.Tensor is not null && !ReferenceEquals(b.Tensor, a.Tensor)) list.Add(b.Tensor);
        if (list.Count == 0) throw new InvalidOperationException("A binary layer needs a runtime operand");
        return [.. list];
    }

    public override IReadOnlyList<TrainParameter> Parameters
    {
        get
        {
            var p = new List<TrainParameter>();
            if (_a.Parameter is not null) p.Add(_a.Parameter);
            if (_b.Parameter is not null) p.Add(_b.Parameter);
            return p;
        }
    }

    private static int[] OutputShape(string name, BinaryOperand a, BinaryOperand b)
    {
        int rank = Math.Max(a.Shape.Length, b.Shape.Length);
        var full = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = Dim(a.Shape, i, rank), db = Dim(b.Shape, i, rank);
            if (da != db && da != 1 && db != 1) throw new ShapeInferenceException($"Layer '{name}': shapes {IR.Shapes.Format(a.Shape)} and {IR.Shapes.Format(b.Shape)} do not broadcast");
            full[i] = Math.Max(da, db);
        }
        // the leading axis is the batch: a constant must not be larger than 1 there
        if (Dim(a.Tensor is null ? a.Shape : b.Shape, 0, rank) != 1 && (a.Tensor is null || b.Tensor is null))
            throw new UnsupportedOperatorException($"Layer '{name}': a constant broadcast along the batch axis cannot be trained");
        return full[1..];
    }

    private static int Dim(int[] shape, int axis, int rank)
    {
        int i = axis - (rank - shape.Length);
        return i < 0 ? 1 : shape[i];
    }

    /// <summary>For each element of an output sample, the element of the operand's sample (or constant) it reads.</summary>
    private static int[] Map(BinaryOperand op, int[] outSample)
    {
        int rank = outSample.Length + 1;
        int count = IR.Shapes.Count(outSample);
        var map = new int[count];
        var strides = new int[rank];
        int stride = 1;
        for (int axis = rank - 1; axis >= 1; axis--)
        {
            int d = Dim(op.Shape, axis, rank);
            strides[axis] = d == 1 ? 0 : stride;
            stride *= d;
        }
        var index = new int[rank];
        for (int i = 0; i < count; i++)
        {
            int rest = i, offset = 0;
            for (int axis = rank - 1; axis >= 1; axis--)
            {
                int d = outSample[axis - 1];
                offset += rest % d * strides[axis];
                rest /= d;
            }
            map[i] = offset;
        }
        return map;
    }

    private ReadOnlySpan<float> Values(BinaryOperand op, int batch) =>
        op.Tensor is not null ? op.Tensor.Data(batch) : op.Parameter is not null ? op.Parameter.Value : op.Constant;

    private static int SampleSize(BinaryOperand op) => op.Tensor?.SampleSize ?? 0;

    public override void Forward(int batch, bool training)
    {
        var a = Values(_a, batch);
        var b = Values(_b, batch);
        var y = Output.Data(batch);
        int size = Output.SampleSize, sa = SampleSize(_a), sb = SampleSize(_b);
        for (int n = 0; n < batch; n++)
        {
            var ys = y.Slice(n * size, size);
            var aS = a[(n * sa)..];
            var bS = b[(n * sb)..];
            switch (_kind)
            {
                case BinaryKind.Add: for (int i = 0; i < size; i++) ys[i] = aS[_mapA[i]] + bS[_mapB[i]]; break;
                case BinaryKind.Sub: for (int i = 0; i < size; i++) ys[i] = aS[_mapA[i]] - bS[_mapB[i]]; break;
                case BinaryKind.Mul: for (int i = 0; i < size; i++) ys[i] = aS[_mapA[i]] * bS[_mapB[i]]; break;
                default: for (int i = 0; i < size; i++) ys[i] = aS[_mapA[i]] / bS[_mapB[i]]; break;
            }
        }
    }

    public override void Backward(int batch)
    {
        bool same = ReferenceEquals(_a.Tensor, _b.Tensor) && _a.Tensor is not null;
        var dy = Output.Grad(batch);
        var a = Values(_a, batch);
        var b = Values(_b, batch);
        int size = Output.SampleSize, sa = SampleSize(_a), sb = SampleSize(_b);
        // runtime operands: clear unless they accumulate (x op x is handled as two contributions)
        if (_a.Tensor is { NeedsGrad: true } ta && !ta.AccumulateGrad) ta.Grad(batch).Clear();
        if (!same && _b.Tensor is { NeedsGrad: true } tb && !tb.AccumulateGrad) tb.Grad(batch).Clear();
        _a.Parameter?.Grad.Clear();
        _b.Parameter?.Grad.Clear();
        var ga = _a.Tensor is { NeedsGrad: true } ? _a.Tensor.Grad(batch) : _a.Parameter is not null ? _a.Parameter.Grad : default;
        var gb = _b.Tensor is { NeedsGrad: true } ? _b.Tensor.Grad(batch) : _b.Parameter is not null ? _b.Parameter.Grad : default;
        bool wantA = !ga.IsEmpty, wantB = !gb.IsEmpty;
        for (int n = 0; n < batch; n++)
        {
            var aS = a[(n * sa)..];
            var bS = b[(n * sb)..];
            var gaS = wantA ? ga[(n * sa)..] : default;
            var gbS = wantB ? gb[(n * sb)..] : default;
            for (int i = 0; i < size; i++)
            {
                float g = dy[n * size + i];
                float av = aS[_mapA[i]], bv = bS[_mapB[i]];
                float pa, pb;
                switch (_kind)
                {
                    case BinaryKind.Add: pa = 1; pb = 1; break;
                    case BinaryKind.Sub: pa = 1; pb = -1; break;
                    case BinaryKind.Mul: pa = bv; pb = av; break;
                    default: pa = 1 / bv; pb = -av / (bv * bv); break;
                }
                if (wantA) gaS[_mapA[i]] += g * pa;
                if (wantB) gbS[_mapB[i]] += g * pb;
            }
        }
    }
}
