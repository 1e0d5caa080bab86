namespace EdgeNet.Training.Losses;

/// <summary>
/// A loss over a mini-batch of outputs [batch × width] against class labels: returns the mean loss (accumulated in
/// double) and writes dLoss/dOutput. Losses that fuse an activation (softmax, sigmoid) take the logits.
/// </summary>
public abstract class Loss
{
    public abstract string Name { get; }
    /// <summary>The activation the loss applies itself to the logits (the graph's own final Softmax/Sigmoid is skipped while training).</summary>
    public virtual string? FusedActivation => null;
    public abstract double Compute(ReadOnlySpan<float> output, int batch, int width, ReadOnlySpan<int> labels, Span<float> grad);
}

/// <summary>Softmax + cross-entropy on logits: L = −mean log softmax(z)[label]; dz = (softmax(z) − onehot)/batch.</summary>
public sealed class SoftmaxCrossEntropyLoss : Loss
{
    public override string Name => "softmax_cross_entropy";
    public override string? FusedActivation => "Softmax";

    public override double Compute(ReadOnlySpan<float> output, int batch, int width, ReadOnlySpan<int> labels, Span<float> grad)
    {
        double total = 0;
        float scale = 1f / batch;
        for (int n = 0; n < batch; n++)
        {
            var z = output.Slice(n * width, width);
            var g = grad.Slice(n * width, width);
            int label = labels[n];
            if ((uint)label >= (uint)width) throw new InputMismatchException($"Label {label} is outside the {width} classes");
            float max = float.NegativeInfinity;
            foreach (float v in z) max = MathF.Max(max, v);
            double sum = 0;
            for (int i = 0; i < width; i++) { float e = MathF.Exp(z[i] - max); g[i] = e; sum += e; }
            float inv = (float)(1 / sum);
            for (int i = 0; i < width; i++) g[i] = (g[i] * inv - (i == label ? 1 : 0)) * scale;
            total += -(z[label] - max - Math.Log(sum));
        }
        return total / batch;
    }
}

/// <summary>
/// Sigmoid + binary cross-entropy on logits, mean over all elements (as PyTorch's BCEWithLogitsLoss). With one output
/// the label (0 or 1) is the target; with several, the label's one-hot row. L = max(z,0) − z·t + log(1 + e^−|z|);
/// dz = (σ(z) − t)/count.
/// </summary>
public sealed class SigmoidBinaryCrossEntropyLoss : Loss
{
    public override string Name => "sigmoid_binary_cross_entropy";
    public override string? FusedActivation => "Sigmoid";

    public override double Compute(ReadOnlySpan<float> output, int batch, int width, ReadOnlySpan<int> labels, Span<float> grad)
    {
        double total = 0;
        float scale = 1f / (batch * width);
        for (int n = 0; n < batch; n++)
        {
            int label = labels[n];
            if (width == 1 ? (uint)label > 1 : (uint)label >= (uint)width)
                throw new InputMismatchException($"Label {label} does not fit a binary output of width {width}");
            for (int i = 0; i < width; i++)
            {
                float z = output[n * width + i];
                float t = width == 1 ? label : (i == label ? 1 : 0);
                total += Math.Max(z, 0) - z * t + Math.Log(1 + Math.Exp(-Math.Abs(z)));
                grad[n * width + i] = (1f / (1f + MathF.Exp(-z)) - t) * scale;
            }
        }
        return total / (batch * width);
    }
}

/// <summary>Mean squared error against the label's one-hot row (or the label itself for one output): dy = 2(y − t)/count.</summary>
public sealed class MeanSquaredErrorLoss : Loss
{
    public override string Name => "mse";

    public override double Compute(ReadOnlySpan<float> output, int batch, int width, ReadOnlySpan<int> labels, Span<float> grad)
    {
        double total = 0;
        float scale = 2f / (batch * width);
        for (int n = 0; n < batch; n++)
            for (int i = 0; i < width; i++)
            {
                float t = width == 1 ? labels[n] : (i == labels[n] ? 1 : 0);
                float d = output[n * width + i] - t;
                total += (double)d * d;
                grad[n * width + i] = d * scale;
            }
        return total / (batch * width);
    }
}

public static class LossMath
{
    /// <summary>Numerically stable softmax of one row.</summary>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x) max = MathF.Max(max, v);
        double sum = 0;
        for (int i = 0; i < x.Length; i++) { y[i] = MathF.Exp(x[i] - max); sum += y[i]; }
        float inv = (float)(1 / sum);
        for (int i = 0; i < y.Length; i++) y[i] *= inv;
    }
}
