using System.Globalization;
using System.Text;

namespace EdgeNet.Training.Metrics;

/// <summary>One epoch of training. Validation fields are NaN when there is no validation set.</summary>
public readonly record struct EpochRecord(int Epoch, double TrainLoss, double TrainAccuracy, double ValLoss, double ValAccuracy, double LearningRate);

/// <summary>
/// Per-epoch results of a training run, as Keras's <c>History</c>: written as CSV
/// (<c>epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr</c>, empty cells for missing validation) and plotted to PNG.
/// </summary>
public sealed class TrainingHistory
{
    private readonly List<EpochRecord> _epochs = [];

    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    public void Add(EpochRecord record) => _epochs.Add(record);

    public string ToCsv()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr\n");
        foreach (var e in _epochs)
            sb.Append(inv, $"{e.Epoch},{Cell(e.TrainLoss)},{Cell(e.TrainAccuracy)},{Cell(e.ValLoss)},{Cell(e.ValAccuracy)},{Cell(e.LearningRate)}\n");
        return sb.ToString();
    }

    private static string Cell(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    public void WriteCsv(string path) => File.WriteAllText(path, ToCsv());

    /// <summary>Renders the loss and accuracy curves (train and validation per epoch) as a PNG file's bytes.</summary>
    public byte[] RenderPng(int width = 960, int height = 400) => HistoryPlot.Render(this, width, height);

    public void WritePlot(string path, int width = 960, int height = 400) => File.WriteAllBytes(path, RenderPng(width, height));
}
