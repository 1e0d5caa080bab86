namespace EdgeNet.Training.Layers;

/// <summary>Flatten / Reshape / Squeeze / Unsqueeze / Identity: the same floats under another shape. The output's data
/// is a view of the input's (<see cref="TrainableGraph"/> plans it so); the gradient is copied, so gradients of several
/// consumers never alias.</summary>
public sealed class ReshapeLayer(string name, TrainTensor input, int[] outputSampleShape) : TrainLayer(name, [input], Check(name, input, outputSampleShape))
{
    private static int[] Check(string name, TrainTensor input, int[] shape)
    {
        if (IR.Shapes.Count(shape) != input.SampleSize)
            throw new ShapeInferenceException($"Layer '{name}': cannot reshape {IR.Shapes.Format(input.SampleShape)} to {IR.Shapes.Format(shape)} per sample");
        return shape;
    }

    /// <summary>Nothing to do: the output's data is the input's (planned as a view).</summary>
    public override void Forward(int batch, bool training) { }

    public override void Backward(int batch)
    {
        var x = Inputs[0];
        if (!x.NeedsGrad) return;
        if (x.AccumulateGrad) TrainGemm.Add(x.Grad(batch), Output.Grad(batch));
        else Output.Grad(batch).CopyTo(x.Grad(batch));
    }
}

/// <summary>GlobalAveragePool over the spatial axes of a [C, ...] sample: y[c] = mean x[c, ·]; dx = dy[c] / plane.</summary>
public sealed class GlobalAveragePoolLayer(string name, TrainTensor input) : TrainLayer(name, [input], OutShape(input))
{
    private static int[] OutShape(TrainTensor input)
    {
        var s = new int[input.SampleShape.Length];
        s[0] = input.SampleShape[0];
        for (int i = 1; i < s.Length; i++) s[i] = 1;
        return s;
    }

    public override void Forward(int batch, bool training)
    {
        var x = Inputs[0].Data(batch);
        var y = Output.Data(batch);
        int plane = Inputs[0].SampleSize / Output.SampleSize;
        for (int i = 0; i < y.Length; i++)
        {
            var row = x.Slice(i * plane, plane);
            float s = 0;
            foreach (float v in row) s += v;
            y[i] = s / plane;
        }
    }

    public override void Backward(int batch)
    {
        var x = Inputs[0];
        if (!x.NeedsGrad) return;
        var dy = Output.Grad(batch);
        var dx = x.Grad(batch);
        int plane = x.SampleSize / Output.SampleSize;
        for (int i = 0; i < dy.Length; i++)
        {
            float g = dy[i] / plane;
            var row = dx.Slice(i * plane, plane);
            if (x.AccumulateGrad) for (int j = 0; j < row.Length; j++) row[j] += g;
            else row.Fill(g);
        }
    }
}

/// <summary>2-D MaxPool / AveragePool over [C, H, W] samples (strides, pads; average counts only real pixels unless
/// count_include_pad). MaxPool's backward routes the gradient to the first maximum of each window.</summary>
public sealed unsafe class Pool2dLayer : TrainLayer
{
    private readonly bool _max, _countPad;
    private readonly int _c, _h, _w, _oh, _ow, _kh, _kw, _sh, _sw, _pt, _pl;
    private int _argmax = -1;
    private TrainArena? _arena;

    public Pool2dLayer(string name, TrainTensor input, bool max, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, bool countIncludePad)
        : base(name, [input], Shape(name, input, kh, kw, sh, sw, pt, pl, pb, pr))
    {
        _max = max; _countPad = countIncludePad;
        (_c, _h, _w) = (input.SampleShape[0], input.SampleShape[1], input.SampleShape[2]);
        (_oh, _ow) = (Output.SampleShape[1], Output.SampleShape[2]);
        (_kh, _kw, _sh, _sw, _pt, _pl) = (kh, kw, sh, sw, pt, pl);
    }

    private static int[] Shape(string name, TrainTensor input, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr)
    {
        if (input.SampleShape.Length != 3) throw new UnsupportedOperatorException($"Pool '{name}': only 2-D pooling can be trained");
        int oh = (input.SampleShape[1] + pt + pb - kh) / sh + 1, ow = (input.SampleShape[2] + pl + pr - kw) / sw + 1;
        if (oh < 1 || ow < 1) throw new ShapeInferenceException($"Pool '{name}': window larger than the padded input");
        return [input.SampleShape[0], oh, ow];
    }

    internal override void Plan(TrainArena arena, LayerSetup setup)
    {
        _arena = arena;
        if (_max) _argmax = arena.Reserve(setup.MaxBatch * Output.SampleSize);
    }

    public override void Forward(int batch, bool training)
    {
        var x = Inputs[0].Data(batch);
        var y = Output.Data(batch);
        var arg = _max ? new Span<int>((int*)_arena!.Pointer(_argmax), y.Length) : default;
        int o = 0;
        for (int nc = 0; nc < batch * _c; nc++)
        {
            int baseIn = nc * _h * _w;
            for (int i = 0; i < _oh; i++)
                for (int j = 0; j < _ow; j++, o++)
                {
                    float best = float.NegativeInfinity, sum = 0;
                    int at = -1, count = 0;
                    for (int ki = 0; ki < _kh; ki++)
                    {
                        int ih = i * _sh - _pt + ki;
                        if ((uint)ih >= (uint)_h) continue;
                        for (int kj = 0; kj < _kw; kj++)
                        {
                            int iw = j * _sw - _pl + kj;
                            if ((uint)iw >= (uint)_w) continue;
                            float v = x[baseIn + ih * _w + iw];
                            if (v > best || at < 0) { best = v; at = baseIn + ih * _w + iw; }
                            sum += v; count++;
                        }
                    }
                    if (_max) { y[o] = best; arg[o] = at; }
                    else y[o] = sum / (_countPad ? _kh * _kw : Math.Max(1, count));
                }
        }
    }

    public override void Backward(int batch)
    {
        var x = Inputs[0];
        if (!x.NeedsGrad) return;
        var dx = x.Grad(batch);
        if (!x.AccumulateGrad) dx.Clear();
        var dy = Output.Grad(batch);
        if (_max)
        {
            var arg = new ReadOnlySpan<int>((int*)_arena!.Pointer(_argmax), dy.Length);
            for (int o = 0; o < dy.Length; o++) if (arg[o] >= 0) dx[arg[o]] += dy[o];
            return;
        }
        int q = 0;
        for (int nc = 0; nc < batch * _c; nc++)
        {
            int baseIn = nc * _h * _w;
            for (int i = 0; i < _oh; i++)
                for (int j = 0; j < _ow; j++, q++)
                {
                    int count = 0;
                    if (!_countPad)
                        for (int ki = 0; ki < _kh; ki++)
                            for (int kj = 0; kj < _kw; kj++)
                                if ((uint)(i * _sh - _pt + ki) < (uint)_h && (uint)(j * _sw - _pl + kj) < (uint)_w) count++;
                    float g = dy[q] / (_countPad ? _kh * _kw : Math.Max(1, count));
                    for (int ki = 0; ki < _kh; ki++)
                    {
                        int ih = i * _sh - _pt + ki;
                        if ((uint)ih >= (uint)_h) continue;
                        for (int kj = 0; kj < _kw; kj++)
                        {
                            int iw = j * _sw - _pl + kj;
                            if ((uint)iw < (uint)_w) dx[baseIn + ih * _w + iw] += g;
                        }
                    }
                }
        }
    }
}

/// <summary>Inverted dropout: in training, each value is kept with probability 1 − ratio and scaled by 1/(1 − ratio);
/// in inference it is the identity. The mask comes from a seeded generator, so runs repeat exactly.</summary>
public sealed class DropoutLayer(string name, TrainTensor input, float ratio, int seed) : TrainLayer(name, [input], input.SampleShape)
{
    private readonly float _ratio = ratio is >= 0 and < 1 ? ratio : throw new InvalidModelException($"Dropout '{name}': ratio {ratio} is not in [0, 1)");
    private readonly Random _random = new(seed);
    private int _mask = -1;
    private TrainArena? _arena;
    private bool _training;

    public float Ratio => _ratio;

    internal override void Plan(TrainArena arena, LayerSetup setup)
    {
        _arena = arena;
        _mask = arena.Reserve(setup.MaxBatch * Output.SampleSize);
    }

    public override void Forward(int batch, bool training)
    {
        _training = training && _ratio > 0;
        var x = Inputs[0].Data(batch);
        var y = Output.Data(batch);
        if (!_training) { x.CopyTo(y); return; }
        var mask = _arena!.Span(_mask, y.Length);
        float scale = 1 / (1 - _ratio);
        for (int i = 0; i < y.Length; i++)
        {
            mask[i] = _random.NextSingle() >= _ratio ? scale : 0;
            y[i] = x[i] * mask[i];
        }
    }

    public override void Backward(int batch)
    {
        var x = Inputs[0];
        if (!x.NeedsGrad) return;
        var dy = Output.Grad(batch);
        var dx = x.Grad(batch);
        if (!_training)
        {
            if (x.AccumulateGrad) TrainGemm.Add(dx, dy); else dy.CopyTo(dx);
            return;
        }
        var mask = _arena!.Span(_mask, dy.Length);
        for (int i = 0; i < dy.Length; i++) Put(dx, i, dy[i] * mask[i], x.AccumulateGrad);
    }
}
