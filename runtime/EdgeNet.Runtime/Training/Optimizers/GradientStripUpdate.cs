namespace EdgeNet.Training.Optimizers;

/// <summary>
/// Updates a K×N weight (<paramref name="columns"/> columns) from its gradient a strip of rows at a time, as
/// <see cref="TrainGemm.RunStrips"/> computes them: the gradient never goes to memory (the parameter's
/// <see cref="TrainParameter.Grad"/> is not written), and the weight's and its optimizer state's traffic overlaps the
/// next strip's arithmetic. With a weight average the updated rows are blended into it right away, while cached.
/// Every element gets the arithmetic of a whole update.
/// </summary>
internal sealed unsafe class GradientStripUpdate(Optimizer optimizer, IReadOnlyList<TrainParameter> parameters, int index, int columns, WeightAverage? average) : IGemmRowSink
{
    public void Rows(int row0, int rows, float* values, int stride)
    {
        if (stride == columns) optimizer.UpdateSlice(parameters, index, row0 * columns, new ReadOnlySpan<float>(values, rows * columns));
        else
            for (int r = 0; r < rows; r++)
                optimizer.UpdateSlice(parameters, index, (row0 + r) * columns, new ReadOnlySpan<float>(values + (nint)r * stride, columns));
        average?.Update(parameters, index, row0 * columns, rows * columns); // (the trainer began this step's blend)
    }
}
