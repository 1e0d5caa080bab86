using EdgeNet.Training.Metrics;
using StbImageSharp;

namespace EdgeNet.Tests.Metrics;

public class TrainingHistoryTests
{
    private static TrainingHistory Run(int epochs, bool withValidation)
    {
        var h = new TrainingHistory();
        for (int e = 1; e <= epochs; e++)
            h.Add(new EpochRecord(e, 2.0 / e, 1 - 0.8 / e, withValidation ? 2.2 / e + 0.1 : double.NaN, withValidation ? 0.9 - 0.8 / e : double.NaN, 0.01 * Math.Pow(0.5, e / 4)));
        return h;
    }

    [Fact]
    public void CsvHasOneRowPerEpochAndEmptyCellsWithoutValidation()
    {
        var lines = Run(3, true).ToCsv().TrimEnd().Split('\n');
        Assert.Equal("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr", lines[0]);
        Assert.Equal(4, lines.Length);
        var cells = lines[2].Split(',');
        Assert.Equal("2", cells[0]);
        Assert.Equal(1.0, double.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal(1.2, double.Parse(cells[3], System.Globalization.CultureInfo.InvariantCulture), 12);
        var h = new TrainingHistory();
        h.Add(new EpochRecord(1, 2, 0.25, double.NaN, double.NaN, 0.01));
        Assert.Equal("1,2,0.25,,,0.01", h.ToCsv().Split('\n')[1]);
    }

    private static int Count(ImageResult img, int x0, int y0, int x1, int y1, (byte R, byte G, byte B) c)
    {
        int n = 0;
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                int at = (y * img.Width + x) * 3;
                if (img.Data[at] == c.R && img.Data[at + 1] == c.G && img.Data[at + 2] == c.B) n++;
            }
        return n;
    }

    /// <summary>Topmost row holding colour <paramref name="c"/> in columns x0..x1, or −1.</summary>
    private static int Top(ImageResult img, int x0, int x1, int y0, int y1, (byte R, byte G, byte B) c)
    {
        for (int y = y0; y <= y1; y++)
            if (Count(img, x0, y, x1, y, c) > 0) return y;
        return -1;
    }

    [Fact]
    public void ThePlotDecodesAndShowsBothCurvesInBothPanels()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgenet-history-{Guid.NewGuid():N}.png");
        Run(12, true).WritePlot(path, 900, 360);
        var img = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);
        Assert.Equal((900, 360), (img.Width, img.Height));
        var loss = HistoryPlot.PlotArea(0, 450, 360);
        var acc = HistoryPlot.PlotArea(450, 450, 360);
        foreach (var (l, t, r, b) in new[] { loss, acc })
        {
            Assert.True(Count(img, l, t, r, b, HistoryPlot.TrainColor) > 200, "train curve drawn");
            Assert.True(Count(img, l, t, r, b, HistoryPlot.ValColor) > 200, "validation curve drawn");
            Assert.True(Count(img, l - 70, t, l - 8, b, (0, 0, 0)) > 100, "y tick labels drawn");
            Assert.True(Count(img, l, b + 8, r, img.Height - 1, (0, 0, 0)) > 100, "x tick labels and axis label drawn");
        }
        // Loss falls: near epoch 1 the train curve is higher up (smaller y) than near the last epoch; accuracy rises.
        // (Skip the legend area, top right.)
        int mid = (loss.Top + loss.Bottom) / 2;
        int lossStart = Top(img, loss.Left, loss.Left + 6, loss.Top, loss.Bottom, HistoryPlot.TrainColor);
        int lossEnd = Top(img, loss.Right - 6, loss.Right, mid - 60, loss.Bottom, HistoryPlot.TrainColor);
        Assert.True(lossStart >= 0 && lossEnd > lossStart, $"loss curve: start row {lossStart}, end row {lossEnd}");
        int accStart = Top(img, acc.Left, acc.Left + 6, acc.Top, acc.Bottom, HistoryPlot.TrainColor);
        int accEnd = Top(img, acc.Right - 6, acc.Right, acc.Top, acc.Bottom, HistoryPlot.TrainColor);
        Assert.True(accEnd >= 0 && accEnd < accStart, $"accuracy curve: start row {accStart}, end row {accEnd}");
    }

    [Fact]
    public void WithoutValidationOnlyTheTrainCurveIsDrawn()
    {
        var img = ImageResult.FromMemory(Run(5, false).RenderPng(), ColorComponents.RedGreenBlue);
        Assert.Equal((960, 400), (img.Width, img.Height));
        Assert.Equal(0, Count(img, 0, 0, img.Width - 1, img.Height - 1, HistoryPlot.ValColor));
        Assert.True(Count(img, 0, 0, img.Width - 1, img.Height - 1, HistoryPlot.TrainColor) > 200);
        // A single epoch and an empty history still render.
        Assert.NotEmpty(Run(1, true).RenderPng());
        Assert.NotEmpty(new TrainingHistory().RenderPng());
    }
}
