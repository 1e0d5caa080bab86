using EdgeNet.Devices.Imaging;
using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx;

namespace EdgeNet.Samples.CameraClassifier;

/// <summary>
/// An image classifier on RGB24 frames: resizes the frame (bilinear) to the model's input size, normalizes each channel
/// ((pixel / 255 - mean) / std) straight into the session's input (NCHW or NHWC, 3 channels or 1 = BT.601 luma), runs
/// the model and turns its output into probabilities (softmax unless it already is a distribution). Buffers are made
/// once; <see cref="Classify"/> allocates nothing.
/// </summary>
public sealed class FrameClassifier
{
    private readonly Session _session;
    private readonly float[] _mean, _std, _probabilities;
    private readonly byte[] _resized;
    private readonly bool _channelsLast;

    /// <param name="modelPath">.onnx or .enet file with one image input (rank 4) and one score output.</param>
    /// <param name="inputHeight">Input height for a model whose height is symbolic (0: take the model's).</param>
    /// <param name="inputWidth">Input width for a model whose width is symbolic (0: take the model's).</param>
    /// <param name="mean">Per-channel mean in 0..1 units (default ImageNet's 0.485, 0.456, 0.406).</param>
    /// <param name="std">Per-channel standard deviation (default ImageNet's 0.229, 0.224, 0.225).</param>
    public FrameClassifier(string modelPath, int inputHeight = 0, int inputWidth = 0, float[]? mean = null, float[]? std = null, int threads = 1)
    {
        var model = modelPath.EndsWith(".enet", StringComparison.OrdinalIgnoreCase) ? EnetReader.Load(modelPath) : OnnxImporter.Load(modelPath);
        var input = model.Graph.Inputs[0];
        if (input.Shape is not { Length: 4 } dims)
            throw new InputMismatchException($"{Path.GetFileName(modelPath)}: input '{input.Name}' is not an image (rank 4); its shape is {(input.Shape is null ? "unknown" : string.Join("x", input.Shape.Select(d => d.IsKnown ? d.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.Symbol ?? "?")))}");
        _channelsLast = !(dims[1].IsKnown && dims[1].Value is 1 or 3) && dims[3].IsKnown && dims[3].Value is 1 or 3;
        int channelAxis = _channelsLast ? 3 : 1, heightAxis = _channelsLast ? 1 : 2, widthAxis = _channelsLast ? 2 : 3;
        if (!dims[channelAxis].IsKnown || dims[channelAxis].Value is not (1 or 3))
            throw new InputMismatchException($"{Path.GetFileName(modelPath)}: input '{input.Name}' has no 1- or 3-channel axis (NCHW or NHWC)");
        Channels = (int)dims[channelAxis].Value;
        InputHeight = Resolve(dims[heightAxis], inputHeight, "height", modelPath);
        InputWidth = Resolve(dims[widthAxis], inputWidth, "width", modelPath);
        var options = new SessionOptions { Threads = threads };
        options.InputShapes[input.Name] = _channelsLast ? [1, InputHeight, InputWidth, Channels] : [1, Channels, InputHeight, InputWidth];
        _session = new Session(model, options);
        if (_session.InputType(0) != DataType.Float32 || _session.OutputType(0) != DataType.Float32)
            throw new InputMismatchException($"{Path.GetFileName(modelPath)}: the classifier needs a float32 input and output");
        InputName = input.Name;
        Classes = Shapes.Count(_session.OutputShape(0));
        _probabilities = new float[Classes];
        _resized = new byte[InputWidth * InputHeight * 3];
        _mean = Expand(mean ?? [0.485f, 0.456f, 0.406f], "mean");
        _std = Expand(std ?? [0.229f, 0.224f, 0.225f], "std");
        foreach (float s in _std)
            if (!(s > 0)) throw new ArgumentException("std must be positive", nameof(std));
    }

    private static int Resolve(Dim dim, int requested, string what, string modelPath)
    {
        if (requested > 0) return dim.IsKnown && dim.Value != requested
            ? throw new InputMismatchException($"{Path.GetFileName(modelPath)}: input {what} is fixed at {dim.Value}, not {requested}")
            : requested;
        if (dim.IsKnown && dim.Value > 0) return (int)dim.Value;
        throw new InputMismatchException($"{Path.GetFileName(modelPath)}: input {what} is symbolic ('{dim.Symbol}'): give the input size (--input-size HxW, e.g. 48x192 for ch_ppocr_mobile_v2.0_cls)");
    }

    private float[] Expand(float[] values, string what) => values.Length switch
    {
        3 => values,
        1 => [values[0], values[0], values[0]],
        _ => throw new ArgumentException($"{what} needs 1 or 3 values"),
    };

    public string InputName { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }
    public int Channels { get; }
    public int Classes { get; }
    public bool ChannelsLast => _channelsLast;
    public Session Session => _session;

    /// <summary>The probabilities of the last <see cref="Classify"/>.</summary>
    public ReadOnlySpan<float> Probabilities => _probabilities;

    /// <summary>Writes the normalized model input for an RGB24 image already at the input size.</summary>
    public void Normalize(ReadOnlySpan<byte> rgb, Span<float> input)
    {
        int plane = InputWidth * InputHeight;
        for (int p = 0; p < plane; p++)
        {
            byte r = rgb[3 * p], g = rgb[3 * p + 1], b = rgb[3 * p + 2];
            if (Channels == 1)
            {
                // BT.601 luma: 0.299 R + 0.587 G + 0.114 B
                input[p] = ((0.299f * r + 0.587f * g + 0.114f * b) / 255f - _mean[0]) / _std[0];
                continue;
            }
            float x0 = (r / 255f - _mean[0]) / _std[0], x1 = (g / 255f - _mean[1]) / _std[1], x2 = (b / 255f - _mean[2]) / _std[2];
            if (_channelsLast) { input[3 * p] = x0; input[3 * p + 1] = x1; input[3 * p + 2] = x2; }
            else { input[p] = x0; input[plane + p] = x1; input[2 * plane + p] = x2; }
        }
    }

    /// <summary>Classifies one RGB24 frame of any size; the result is in <see cref="Probabilities"/>.</summary>
    public void Classify(ReadOnlySpan<byte> rgb, int width, int height)
    {
        RgbResize.Bilinear(rgb, width, height, _resized, InputWidth, InputHeight);
        Normalize(_resized, _session.Input<float>(0));
        _session.Run();
        ToProbabilities(_session.Output<float>(0), _probabilities);
    }

    /// <summary>Copies scores that already form a distribution (all in 0..1, sum 1 ± 1e-3); otherwise applies softmax.</summary>
    public static void ToProbabilities(ReadOnlySpan<float> scores, Span<float> probabilities)
    {
        float sum = 0, max = float.NegativeInfinity;
        bool unit = true;
        foreach (float s in scores)
        {
            sum += s;
            max = Math.Max(max, s);
            unit &= s >= 0 && s <= 1;
        }
        if (unit && Math.Abs(sum - 1) <= 1e-3f) { scores.CopyTo(probabilities); return; }
        float total = 0;
        for (int i = 0; i < scores.Length; i++) total += probabilities[i] = MathF.Exp(scores[i] - max);
        for (int i = 0; i < scores.Length; i++) probabilities[i] /= total;
    }

    /// <summary>Fills <paramref name="indices"/> with the classes of the highest probabilities, best first (ties: lower index first).</summary>
    public int TopK(Span<int> indices)
    {
        int k = Math.Min(indices.Length, Classes);
        for (int n = 0; n < k; n++)
        {
            int best = -1;
            for (int c = 0; c < Classes; c++)
            {
                if (indices[..n].Contains(c)) continue;
                if (best < 0 || _probabilities[c] > _probabilities[best]) best = c;
            }
            indices[n] = best;
        }
        return k;
    }
}
