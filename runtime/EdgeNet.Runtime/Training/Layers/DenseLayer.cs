using EdgeNet.Kernels.Activation;

namespace EdgeNet.Training.Layers;

/// <summary>
/// Gemm / MatMul with constant weights (+ bias, + fused activation) over the last axis:
/// Z = X·W (W stored K×N) or X·Wᵀ (W stored N×K, Gemm transB=1), Y = act(Z + b).
/// Backward: dZ = dY ⊙ act'(Z); dW = Xᵀ·dZ (or dZᵀ·X); db = Σ dZ; dX = dZ·Wᵀ (or dZ·W). All three products run on
/// the blocked fp32 GEMM.
/// </summary>
public sealed unsafe class DenseLayer : TrainLayer
{
    private readonly TrainParameter _weight;
    private readonly TrainParameter? _bias;
    private bool _transB;
    private readonly int _k, _n;
    private readonly FusedActivation _activation;
    private TrainGemmCache? _forward, _weightGrad, _inputGrad;
    private int _preActivation = -1, _deltaOffset = -1;
    private int _packedBatch = -1;
    private TrainArena? _arena;
    private Kernels.Isa _isa;

    public DenseLayer(string name, TrainTensor input, TrainParameter weight, bool transB, TrainParameter? bias, FusedActivation activation)
        : base(name, [input], OutputShape(name, input, weight, transB))
    {
        _weight = weight; _bias = bias; _transB = transB; _activation = activation;
        _k = input.SampleShape[^1];
        _n = transB ? weight.Tensor.Dims[0] : weight.Tensor.Dims[1];
        if (bias is not null && bias.Count != _n && bias.Count != 1)
            throw new UnsupportedOperatorException($"Layer '{name}': bias of {bias.Count} values for {_n} outputs");
    }

    private static int[] OutputShape(string name, TrainTensor input, TrainParameter weight, bool transB)
    {
        var w = weight.Tensor.Dims;
        if (w.Length != 2) throw new UnsupportedOperatorException($"Layer '{name}': weights must be 2-D, got {IR.Shapes.Format(w)}");
        if (input.SampleShape.Length == 0) throw new UnsupportedOperatorException($"Layer '{name}': input has no feature axis");
        int k = transB ? w[1] : w[0];
        if (input.SampleShape[^1] != k)
            throw new ShapeInferenceException($"Layer '{name}': input features {input.SampleShape[^1]} do not match weights {IR.Shapes.Format(w)}");
        var shape = (int[])input.SampleShape.Clone();
        shape[^1] = transB ? w[0] : w[1];
        return shape;
    }

    /// <summary>
    /// With Wᵀ (transB) the forward product packs W into panels every step (W changes every step), while stored K×N
    /// it is read in place. Stored N×K, it is the input gradient dX = dZ·W that reads it in place. So when this layer
    /// computes no input gradient (it is the first trained layer), its weight is stored K×N instead: the caller flips
    /// the model node's transB to match, and the model computes the same. Weight gradients come out in the same
    /// layout, each element the same sum in the same order. Call before planning.
    /// </summary>
    internal bool TryStoreWeightUntransposed()
    {
        if (!_transB || Inputs[0].NeedsGrad || _forward is not null) return false;
        _weight.StoreTransposed();
        _transB = false;
        return true;
    }

    /// <summary>The weight, stored K×N, takes no input gradient: its gradient Xᵀ·dZ can be computed in row chunks.</summary>
    internal bool CanDeferWeightGradient => !_transB && !Inputs[0].NeedsGrad && _weight.Tensor.Rank == 2;

    /// <summary>Set by the trainer: the next <see cref="Backward"/> leaves the weight gradient to
    /// <see cref="WeightGradientStrips"/> (only where <see cref="CanDeferWeightGradient"/>).</summary>
    internal bool DeferWeightGradient { get; set; }

    internal TrainParameter Weight => _weight;

    /// <summary>Columns of the weight as stored (K×N): values per gradient row.</summary>
    internal int WeightColumns => _n;

    /// <summary>Weight values per gradient strip (the last may be shorter), after a deferring backward pass.</summary>
    internal int WeightChunkValues => _weightGrad!.For(_deferredBatch).StripRows * _n;

    private float* _deferredDelta;
    private int _deferredBatch = 1;

    /// <summary>
    /// After a deferring backward pass: true when no element of the weight gradient Σ_b x[b,k]·dZ[b,n] can be NaN or
    /// ±Inf, because x and dZ are finite and rows · max|x| · max|dZ| is far below float's range (rounding cannot
    /// reach it either). When false the caller computes the whole gradient (<see cref="WeightGradient"/>) and checks
    /// it. <paramref name="inputMaxAbs"/>: max|x| when the caller has it already (the layer reads the graph input).
    /// </summary>
    internal bool WeightGradientIsBounded(int batch, float? inputMaxAbs)
    {
        int rows = batch * RowsPerSample;
        double x = inputMaxAbs ?? TrainVectors.MaxAbs(new ReadOnlySpan<float>(Inputs[0].DataPtr, rows * _k));
        double d = TrainVectors.MaxAbs(new ReadOnlySpan<float>(_deferredDelta, rows * _n));
        return double.IsFinite(x) && double.IsFinite(d) && rows * x * d < 1e36;
    }

    /// <summary>Computes the whole weight gradient after a deferring backward pass.</summary>
    internal void WeightGradient(int batch) =>
        _weightGrad!.For(batch).Run(Inputs[0].DataPtr, _deferredDelta, _weight.GradPtr, aPacked: true);

    /// <summary>
    /// After a deferring backward pass: the weight gradient Xᵀ·dZ a few rows at a time, each handed to
    /// <paramref name="sink"/> (the optimizer) while cached. The parameter's <see cref="TrainParameter.Grad"/> is not
    /// written.
    /// </summary>
    internal void WeightGradientStrips(int batch, IGemmRowSink sink) => _weightGrad!.For(batch).RunStrips(_deferredDelta, sink);

    public override IReadOnlyList<TrainParameter> Parameters => _bias is null ? [_weight] : [_weight, _bias];

    private int RowsPerSample => Inputs[0].SampleSize / _k;

    internal override void Plan(TrainArena arena, LayerSetup setup)
    {
        _arena = arena;
        _isa = setup.Isa;
        int rows = setup.MaxBatch * RowsPerSample;
        if (_activation.Kind != ActivationKind.None)
        {
            _preActivation = arena.Reserve(rows * _n);
            _deltaOffset = arena.Reserve(rows * _n);
        }
        var isa = setup.Isa;
        int perSample = RowsPerSample;
        _forward = new TrainGemmCache(b => new TrainGemm(isa, b * perSample, _n, _k, false, _transB, false), setup.MaxBatch);
        // K×N weight gradients can be made a strip of rows at a time, so the optimizer takes each while it is cached
        _weightGrad = new TrainGemmCache(b => _transB
            ? new TrainGemm(isa, _n, _k, b * perSample, true, false, false)
            : new TrainGemm(isa, _k, _n, b * perSample, true, false, false, rowStrips: true), setup.MaxBatch);
        bool accumulate = Inputs[0].AccumulateGrad;
        _inputGrad = new TrainGemmCache(b => new TrainGemm(isa, b * perSample, _k, _n, false, !_transB, accumulate), setup.MaxBatch);
    }

    public override void Forward(int batch, bool training)
    {
        int rows = batch * RowsPerSample;
        float* z = _preActivation >= 0 ? _arena!.Pointer(_preActivation) : Output.DataPtr;
        // the weight gradient Xᵀ·dZ packs X: here, while X is in the cache (by the backward pass, streaming the
        // weights has evicted it)
        _packedBatch = -1;
        if (training && !_transB)
        {
            _weightGrad!.For(batch).PackA(Inputs[0].DataPtr);
            _packedBatch = batch;
        }
        _forward!.For(batch).Run(Inputs[0].DataPtr, _weight.ValuePtr, z);
        var zs = new Span<float>(z, rows * _n);
        if (_bias is not null)
        {
            var b = _bias.Value;
            if (b.Length == 1) { float v = b[0]; for (int i = 0; i < zs.Length; i++) zs[i] += v; }
            else for (int r = 0; r < rows; r++) TrainGemm.Add(zs.Slice(r * _n, _n), b);
        }
        if (_activation.Kind != ActivationKind.None) _activation.Apply(zs, Output.Data(batch), _isa);
    }

    public override void Backward(int batch)
    {
        int rows = batch * RowsPerSample;
        float* dz = Output.GradPtr;
        if (_activation.Kind != ActivationKind.None)
        {
            dz = _arena!.Pointer(_deltaOffset);
            ActivationMath.Backward(_activation, _arena.Span(_preActivation, rows * _n), Output.Data(batch), Output.Grad(batch), new Span<float>(dz, rows * _n), false);
        }
        _deferredDelta = null;
        if (DeferWeightGradient && CanDeferWeightGradient)
        {
            // the trainer takes the weight gradient strip by strip (WeightGradientStrips), each right into its update
            if (_packedBatch != batch) _weightGrad!.For(batch).PackA(Inputs[0].DataPtr);
            _packedBatch = batch;
            _deferredDelta = dz;
            _deferredBatch = batch;
        }
        else _weightGrad!.For(batch).Run(_transB ? dz : Inputs[0].DataPtr, _transB ? Inputs[0].DataPtr : dz, _weight.GradPtr, aPacked: _packedBatch == batch);
        if (_bias is not null)
        {
            var db = _bias.Grad;
            db.Clear();
            var d = new ReadOnlySpan<float>(dz, rows * _n);
            if (db.Length == 1) { float s = 0; foreach (float v in d) s += v; db[0] = s; }
            else for (int r = 0; r < rows; r++) TrainGemm.Add(db, d.Slice(r * _n, _n));
        }
        if (Inputs[0].NeedsGrad) _inputGrad!.For(batch).Run(dz, _weight.ValuePtr, Inputs[0].GradPtr);
    }
}
