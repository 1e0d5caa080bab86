namespace EdgeNet.Training.Layers;

/// <summary>Softmax over the last axis: y = exp(x − max) / Σ; dx = y ⊙ (dy − Σ dy·y).</summary>
public sealed class SoftmaxLayer(string name, TrainTensor input) : TrainLayer(name, [input], input.SampleShape)
{
    private readonly int _length = input.SampleShape.Length == 0 ? 1 : input.SampleShape[^1];

    public override void Forward(int batch, bool training)
    {
        var x = Inputs[0].Data(batch);
        var y = Output.Data(batch);
        for (int r = 0; r < x.Length / _length; r++) Losses.LossMath.Softmax(x.Slice(r * _length, _length), y.Slice(r * _length, _length));
    }

    public override void Backward(int batch)
    {
        var x = Inputs[0];
        if (!x.NeedsGrad) return;
        var y = Output.Data(batch);
        var dy = Output.Grad(batch);
        var dx = x.Grad(batch);
        for (int r = 0; r < y.Length / _length; r++)
        {
            int o = r * _length;
            double dot = 0;
            for (int i = 0; i < _length; i++) dot += dy[o + i] * y[o + i];
            for (int i = 0; i < _length; i++) Put(dx, o + i, y[o + i] * (dy[o + i] - (float)dot), x.AccumulateGrad);
        }
    }
}

/// <summary>
/// BatchNormalization over axis 1 of [C, ...] samples. Frozen (the default for a pre-trained backbone): an affine map
/// with the running statistics, y = γ(x − μ_run)/√(σ²_run + ε) + β. Training mode: the mini-batch statistics, and the
/// running ones updated with the ONNX momentum (running = running·m + batch·(1 − m)). γ and β are trained in both.
/// </summary>
public sealed class BatchNormLayer : TrainLayer
{
    private readonly TrainParameter _scale, _bias;
    private readonly TrainParameter _runningMean, _runningVar;
    private readonly float _epsilon, _momentum;
    private readonly int _channels, _plane;
    private readonly float[] _mean, _invStd;
    private bool _batchStats;
    private TrainArena? _arena;
    private int _normalized = -1;
    private bool _trainMode;

    public BatchNormLayer(string name, TrainTensor input, TrainParameter scale, TrainParameter bias, TrainParameter runningMean, TrainParameter runningVar, float epsilon, float momentum)
        : base(name, [input], input.SampleShape)
    {
        _scale = scale; _bias = bias; _runningMean = runningMean; _runningVar = runningVar; _epsilon = epsilon; _momentum = momentum;
        _channels = input.SampleShape.Length > 0 ? input.SampleShape[0] : 1;
        _plane = input.SampleSize / Math.Max(1, _channels);
        if (scale.Count != _channels || bias.Count != _channels || runningMean.Count != _channels || runningVar.Count != _channels)
            throw new ShapeInferenceException($"BatchNormalization '{name}': parameters do not match {_channels} channels");
        _mean = new float[_channels];
        _invStd = new float[_channels];
    }

    public override IReadOnlyList<TrainParameter> Parameters => [_scale, _bias];

    internal override void Plan(TrainArena arena, LayerSetup setup)
    {
        _arena = arena;
        _trainMode = setup.TrainBatchNorm;
        _normalized = arena.Reserve(setup.MaxBatch * Output.SampleSize);
    }

    public override void Forward(int batch, bool training)
    {
        var x = Inputs[0].Data(batch);
        var y = Output.Data(batch);
        var xhat = _arena!.Span(_normalized, y.Length);
        _batchStats = training && _trainMode && batch * _plane > 1;
        for (int c = 0; c < _channels; c++)
        {
            float mean, variance;
            if (_batchStats)
            {
                double s = 0, sq = 0;
                for (int n = 0; n < batch; n++)
                    foreach (float v in x.Slice((n * _channels + c) * _plane, _plane)) { s += v; sq += (double)v * v; }
                int count = batch * _plane;
                mean = (float)(s / count);
                variance = (float)Math.Max(0, sq / count - (s / count) * (s / count));
                _runningMean.Value[c] = _runningMean.Value[c] * _momentum + mean * (1 - _momentum);
                _runningVar.Value[c] = _runningVar.Value[c] * _momentum + variance * count / Math.Max(1, count - 1) * (1 - _momentum);
            }
            else { mean = _runningMean.Value[c]; variance = _runningVar.Value[c]; }
            _mean[c] = mean;
            _invStd[c] = 1 / MathF.Sqrt(variance + _epsilon);
            float g = _scale.Value[c], b = _bias.Value[c], inv = _invStd[c];
            for (int n = 0; n < batch; n++)
            {
                int o = (n * _channels + c) * _plane;
                for (int i = 0; i < _plane; i++)
                {
                    float h = (x[o + i] - mean) * inv;
                    xhat[o + i] = h;
                    y[o + i] = g * h + b;
                }
            }
        }
    }

    public override void Backward(int batch)
    {
        var dy = Output.Grad(batch);
        var xhat = _arena!.Span(_normalized, dy.Length);
        var x = Inputs[0];
        var dx = x.NeedsGrad ? x.Grad(batch) : default;
        int count = batch * _plane;
        for (int c = 0; c < _channels; c++)
        {
            double sumDy = 0, sumDyH = 0;
            for (int n = 0; n < batch; n++)
            {
                int o = (n * _channels + c) * _plane;
                for (int i = 0; i < _plane; i++) { sumDy += dy[o + i]; sumDyH += dy[o + i] * xhat[o + i]; }
            }
            _bias.Grad[c] = (float)sumDy;
            _scale.Grad[c] = (float)sumDyH;
            if (dx.IsEmpty) continue;
            float k = _scale.Value[c] * _invStd[c];
            float meanDy = (float)(sumDy / count), meanDyH = (float)(sumDyH / count);
            for (int n = 0; n < batch; n++)
            {
                int o = (n * _channels + c) * _plane;
                for (int i = 0; i < _plane; i++)
                {
                    float v = _batchStats ? k * (dy[o + i] - meanDy - xhat[o + i] * meanDyH) : k * dy[o + i];
                    Put(dx, o + i, v, x.AccumulateGrad);
                }
            }
        }
    }
}

/// <summary>
/// LayerNormalization over the trailing <c>length</c> elements of each sample: y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε).
/// dx = (γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂)) / √(σ² + ε).
/// </summary>
public sealed class LayerNormLayer : TrainLayer
{
    private readonly TrainParameter _scale;
    private readonly TrainParameter? _bias;
    private readonly int _length;
    private readonly float _epsilon;
    private TrainArena? _arena;
    private int _normalized = -1, _invStd = -1;

    public LayerNormLayer(string name, TrainTensor input, int length, TrainParameter scale, TrainParameter? bias, float epsilon)
        : base(name, [input], input.SampleShape)
    {
        _scale = scale; _bias = bias; _length = length; _epsilon = epsilon;
        if (input.SampleSize % length != 0 || scale.Count != length || (bias is not null && bias.Count != length))
            throw new ShapeInferenceException($"LayerNormalization '{name}': scale/bias do not match the normalized length {length}");
    }

    public override IReadOnlyList<TrainParameter> Parameters => _bias is null ? [_scale] : [_scale, _bias];

    internal override void Plan(TrainArena arena, LayerSetup setup)
    {
        _arena = arena;
        _normalized = arena.Reserve(setup.MaxBatch * Output.SampleSize);
        _invStd = arena.Reserve(setup.MaxBatch * Output.SampleSize / _length);
    }

    public override void Forward(int batch, bool training)
    {
        var x = Inputs[0].Data(batch);
        var y = Output.Data(batch);
        var xhat = _arena!.Span(_normalized, y.Length);
        var inv = _arena.Span(_invStd, y.Length / _length);
        var g = _scale.Value;
        var b = _bias is null ? default : _bias.Value;
        for (int r = 0; r < inv.Length; r++)
        {
            var row = x.Slice(r * _length, _length);
            double s = 0;
            foreach (float v in row) s += v;
            float mean = (float)(s / _length);
            double sq = 0;
            foreach (float v in row) sq += (double)(v - mean) * (v - mean);
            float i = 1 / MathF.Sqrt((float)(sq / _length) + _epsilon);
            inv[r] = i;
            int o = r * _length;
            for (int j = 0; j < _length; j++)
            {
                float h = (row[j] - mean) * i;
                xhat[o + j] = h;
                y[o + j] = g[j] * h + (b.IsEmpty ? 0 : b[j]);
            }
        }
    }

    public override void Backward(int batch)
    {
        var dy = Output.Grad(batch);
        var xhat = _arena!.Span(_normalized, dy.Length);
        var inv = _arena.Span(_invStd, dy.Length / _length);
        var g = _scale.Value;
        var dg = _scale.Grad;
        dg.Clear();
        var db = _bias is null ? default : _bias.Grad;
        db.Clear();
        var x = Inputs[0];
        var dx = x.NeedsGrad ? x.Grad(batch) : default;
        for (int r = 0; r < inv.Length; r++)
        {
            int o = r * _length;
            double m1 = 0, m2 = 0;
            for (int j = 0; j < _length; j++)
            {
                float d = dy[o + j];
                dg[j] += d * xhat[o + j];
                if (!db.IsEmpty) db[j] += d;
                float gd = g[j] * d;
                m1 += gd;
                m2 += gd * xhat[o + j];
            }
            if (dx.IsEmpty) continue;
            float mean1 = (float)(m1 / _length), mean2 = (float)(m2 / _length);
            for (int j = 0; j < _length; j++)
                Put(dx, o + j, (g[j] * dy[o + j] - mean1 - xhat[o + j] * mean2) * inv[r], x.AccumulateGrad);
        }
    }
}
