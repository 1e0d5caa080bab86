namespace EdgeNet.Training.Optimizers;

/// <summary>
/// Updates a K×N weight (<paramref name="weightRows"/> × <paramref name="columns"/>) from its gradient a strip of rows at a time, as <see cref="TrainGemm.RunStrips"/> computes
/// them: the gradient never goes to memory, and the weight's and its optimizer state's traffic overlaps the next
/// strip's arithmetic. Every element gets the arithmetic of a whole update.
/// </summary>
internal sealed unsafe class GradientStripUpdate(Optimizer optimizer, IReadOnlyList<TrainParameter> parameters, int index, int weightRows, int columns) : IGemmRowSink
{
    public void Rows(int row0, int rows, float* values, int stride)
    {
        if (stride == columns) optimizer.UpdateSlice(parameters, index, row0 * columns, new ReadOnlySpan<float>(values, rows * columns));
        else
            for (int r = 0; r < rows; r++)
                optimizer.UpdateSlice(parameters, index, (row0 + r) * columns, new ReadOnlySpan<float>(values + (nint)r * stride, columns));
    }

    /// <summary>A weight kept in panels (<see cref="TrainParameter.StoreInPanels"/>): panel p's rows are contiguous.</summary>
    public void PanelRows(int panel, int row0, int rows, float* values)
    {
        int width = parameters[index].PanelWidth;
        optimizer.UpdateSlice(parameters, index, (panel * weightRows + row0) * width, new ReadOnlySpan<float>(values, rows * width));
    }
}
