using System.Globalization;

namespace EdgeNet.Training.Metrics;

/// <summary>
/// Draws a <see cref="TrainingHistory"/> into an RGB buffer — two panels, loss and accuracy against epoch, train in
/// blue and validation in orange, with axes, grid, tick labels, titles and a legend — and encodes it as PNG.
/// Text uses a built-in 5×7 pixel font (digits, '.', '-', '%' and the lower-case letters the labels need), drawn at 2×.
/// </summary>
internal static class HistoryPlot
{
    public static readonly (byte R, byte G, byte B) TrainColor = (31, 119, 180);
    public static readonly (byte R, byte G, byte B) ValColor = (255, 127, 14);
    private static readonly (byte, byte, byte) s_black = (0, 0, 0), s_grid = (228, 228, 228), s_white = (255, 255, 255);

    private const int FontScale = 2, GlyphW = 5, GlyphH = 7, Advance = (GlyphW + 1) * FontScale;
    private const int MarginLeft = 78, MarginRight = 16, MarginTop = 36, MarginBottom = 56;

    public static byte[] Render(TrainingHistory history, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 320);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 200);
        var canvas = new Canvas(width, height);
        canvas.Fill(0, 0, width, height, s_white);
        var epochs = history.Epochs;
        int half = width / 2;
        Panel(canvas, 0, half, height, "loss", epochs, e => e.TrainLoss, e => e.ValLoss, isAccuracy: false);
        Panel(canvas, half, width - half, height, "accuracy", epochs, e => e.TrainAccuracy, e => e.ValAccuracy, isAccuracy: true);
        return PngWriter.EncodeRgb(canvas.Pixels, width, height);
    }

    /// <summary>Where a panel's plot area lies, so tests can find the curves: (left, top, right, bottom) in pixels.</summary>
    public static (int Left, int Top, int Right, int Bottom) PlotArea(int panelX, int panelWidth, int height) =>
        (panelX + MarginLeft, MarginTop, panelX + panelWidth - MarginRight, height - MarginBottom);

    private static void Panel(Canvas c, int x0, int w, int h, string title, IReadOnlyList<EpochRecord> epochs,
        Func<EpochRecord, double> train, Func<EpochRecord, double> val, bool isAccuracy)
    {
        var (left, top, right, bottom) = PlotArea(x0, w, h);
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var e in epochs)
            foreach (double v in (ReadOnlySpan<double>)[train(e), val(e)])
                if (double.IsFinite(v)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        if (!double.IsFinite(lo)) { lo = 0; hi = 1; }
        if (isAccuracy) { lo = Math.Max(0, lo); hi = Math.Min(1, Math.Max(hi, lo)); }
        else lo = Math.Min(0, lo); // losses read best from zero
        if (hi - lo < 1e-9) { hi = lo + (isAccuracy ? 0.1 : Math.Max(1e-3, Math.Abs(lo) * 0.1)); }
        double yStep = NiceStep((hi - lo) / 5);
        double yMin = Math.Floor(lo / yStep) * yStep, yMax = Math.Ceiling(hi / yStep) * yStep;
        if (isAccuracy && yMax > 1) yMax = 1;
        int nEpochs = Math.Max(1, epochs.Count == 0 ? 1 : epochs[^1].Epoch);
        int firstEpoch = epochs.Count == 0 ? 1 : epochs[0].Epoch;
        double xMin = firstEpoch - (nEpochs == firstEpoch ? 0.5 : 0), xMax = nEpochs + (nEpochs == firstEpoch ? 0.5 : 0);

        int X(double e) => left + (int)Math.Round((e - xMin) / (xMax - xMin) * (right - left));
        int Y(double v) => bottom - (int)Math.Round((v - yMin) / (yMax - yMin) * (bottom - top));

        // Grid and y ticks.
        int decimals = Math.Max(0, (int)-Math.Floor(Math.Log10(yStep) + 1e-9));
        for (double v = yMin; v <= yMax + yStep * 1e-6; v += yStep)
        {
            int y = Y(v);
            c.Fill(left, y, right - left + 1, 1, s_grid);
            c.Fill(left - 5, y, 5, 1, s_black);
            string label = isAccuracy ? (v * 100).ToString("F" + Math.Max(0, decimals - 2), CultureInfo.InvariantCulture) + "%" : v.ToString("F" + decimals, CultureInfo.InvariantCulture);
            c.Text(label, left - 8 - label.Length * Advance, y - GlyphH * FontScale / 2, s_black);
        }
        // x ticks at whole epochs.
        double xStep = Math.Max(1, NiceStep((xMax - xMin) / 8));
        for (double e = Math.Ceiling(xMin / xStep) * xStep; e <= xMax + 1e-9; e += xStep)
        {
            int x = X(e);
            c.Fill(x, top, 1, bottom - top, s_grid);
            c.Fill(x, bottom, 1, 5, s_black);
            string label = ((int)e).ToString(CultureInfo.InvariantCulture);
            c.Text(label, x - label.Length * Advance / 2, bottom + 9, s_black);
        }
        // Axes, title, axis label.
        c.Fill(left, top, 1, bottom - top + 1, s_black);
        c.Fill(left, bottom, right - left + 1, 1, s_black);
        c.Text(title, (left + right) / 2 - title.Length * Advance / 2, 10, s_black);
        c.Text("epoch", (left + right) / 2 - 5 * Advance / 2, bottom + 32, s_black);

        // Curves: lines between consecutive finite points, and a square marker on each point.
        bool anyVal = false;
        foreach (var (get, color) in new (Func<EpochRecord, double>, (byte, byte, byte))[] { (train, TrainColor), (val, ValColor) })
        {
            int px = 0, py = 0;
            bool have = false;
            foreach (var e in epochs)
            {
                double v = get(e);
                if (!double.IsFinite(v)) { have = false; continue; }
                if (color == ValColor) anyVal = true;
                int x = X(e.Epoch), y = Y(Math.Clamp(v, yMin, yMax));
                if (have) c.Line(px, py, x, y, color);
                c.Fill(x - 2, y - 2, 5, 5, color);
                (px, py, have) = (x, y, true);
            }
        }
        // Legend inside the plot, on a white box: top right for loss (it falls), bottom right for accuracy (it rises).
        int lx = right - 8 * Advance - 30, ly = isAccuracy ? bottom - (anyVal ? 50 : 30) : top + 8;
        c.Fill(lx - 6, ly - 6, right - lx, anyVal ? 46 : 26, s_grid);
        c.Fill(lx - 5, ly - 5, right - lx - 2, anyVal ? 44 : 24, s_white);
        c.Fill(lx, ly + 6, 20, 3, TrainColor);
        c.Text("train", lx + 26, ly, s_black);
        if (anyVal)
        {
            c.Fill(lx, ly + 26, 20, 3, ValColor);
            c.Text("val", lx + 26, ly + 20, s_black);
        }
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="raw"/>.</summary>
    private static double NiceStep(double raw)
    {
        if (!(raw > 0)) return 1;
        double p = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double m = raw / p;
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
    }

    private sealed class Canvas(int width, int height)
    {
        public byte[] Pixels { get; } = new byte[width * height * 3];

        public void Set(int x, int y, (byte R, byte G, byte B) c)
        {
            if ((uint)x >= (uint)width || (uint)y >= (uint)height) return;
            int at = (y * width + x) * 3;
            Pixels[at] = c.R;
            Pixels[at + 1] = c.G;
            Pixels[at + 2] = c.B;
        }

        public void Fill(int x, int y, int w, int h, (byte, byte, byte) c)
        {
            for (int j = y; j < y + h; j++)
                for (int i = x; i < x + w; i++) Set(i, j, c);
        }

        /// <summary>A 2-pixel-thick line (Bresenham, with the pixel below and right of each step).</summary>
        public void Line(int x0, int y0, int x1, int y1, (byte, byte, byte) c)
        {
            int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
            while (true)
            {
                Fill(x0, y0, 2, 2, c);
                if (x0 == x1 && y0 == y1) return;
                int e2 = 2 * err;
                if (e2 >= dy) { err += dy; x0 += sx; }
                if (e2 <= dx) { err += dx; y0 += sy; }
            }
        }

        public void Text(string s, int x, int y, (byte, byte, byte) c)
        {
            foreach (char ch in s)
            {
                if (Font.Glyph(ch) is { } rows)
                    for (int r = 0; r < GlyphH; r++)
                        for (int k = 0; k < GlyphW; k++)
                            if (rows[r][k] == '#') Fill(x + k * FontScale, y + r * FontScale, FontScale, FontScale, c);
                x += Advance;
            }
        }
    }

    /// <summary>A 5×7 bitmap font: '#' is ink. Characters not listed draw as blanks.</summary>
    private static class Font
    {
        private static readonly Dictionary<char, string[]> s_glyphs = new()
        {
            ['0'] = [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
            ['1'] = ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
            ['2'] = [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
            ['3'] = ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
            ['4'] = ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
            ['5'] = ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
            ['6'] = ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
            ['7'] = ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
            ['8'] = [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
            ['9'] = [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
            ['.'] = [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
            ['-'] = [".....", ".....", ".....", ".###.", ".....", ".....", "....."],
            ['%'] = ["##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"],
            ['a'] = [".....", ".....", ".###.", "....#", ".####", "#...#", ".####"],
            ['c'] = [".....", ".....", ".###.", "#....", "#....", "#...#", ".###."],
            ['e'] = [".....", ".....", ".###.", "#...#", "#####", "#....", ".###."],
            ['h'] = ["#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
            ['i'] = ["..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."],
            ['l'] = [".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
            ['n'] = [".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
            ['o'] = [".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."],
            ['p'] = [".....", ".....", "####.", "#...#", "####.", "#....", "#...."],
            ['r'] = [".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."],
            ['s'] = [".....", ".....", ".####", "#....", ".###.", "....#", "####."],
            ['t'] = [".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."],
            ['u'] = [".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"],
            ['v'] = [".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
            ['y'] = [".....", ".....", "#...#", "#...#", ".####", "....#", ".###."],
        };

        public static string[]? Glyph(char c) => s_glyphs.TryGetValue(c, out var g) ? g : null;
    }
}
