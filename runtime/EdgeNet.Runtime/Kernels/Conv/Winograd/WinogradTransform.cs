namespace EdgeNet.Kernels.Conv.Winograd;

/// <summary>
/// The matrices of a Winograd minimal-filtering algorithm F(m×m, 3×3) (Lavin and Gray, 2016): an output tile of m×m
/// comes from an input tile of α×α (α = m + 2) as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so per tile and channel pair the
/// 9·m² multiply-adds of the direct conv become α² (F(2,3): 16 for 36, F(4,3): 36 for 144). Across channels each
/// of the α² frequencies is an independent GEMM (filters × channels · channels × tiles). The interpolation points
/// are 0, ±1 (F(2,3)) and 0, ±1, ±2 (F(4,3)) plus ∞; larger tiles need points whose transforms lose too many bits
/// in fp32 (see README.md).
/// </summary>
public sealed class WinogradTransform
{
    private WinogradTransform(int m, double[,] bt, double[,] g, double[,] at)
    {
        M = m;
        Alpha = m + 2;
        BT = bt;
        G = g;
        AT = at;
    }

    /// <summary>Output tile side m.</summary>
    public int M { get; }
    /// <summary>Input tile side α = m + 2 (taps 3); α² frequencies.</summary>
    public int Alpha { get; }
    /// <summary>Frequencies per tile: α².</summary>
    public int Frequencies => Alpha * Alpha;
    /// <summary>Input transform Bᵀ (α×α).</summary>
    public double[,] BT { get; }
    /// <summary>Filter transform G (α×3).</summary>
    public double[,] G { get; }
    /// <summary>Output transform Aᵀ (m×α).</summary>
    public double[,] AT { get; }

    /// <summary>F(2×2, 3×3): points 0, 1, −1, ∞.</summary>
    public static readonly WinogradTransform F2 = new(2,
        new double[,] { { 1, 0, -1, 0 }, { 0, 1, 1, 0 }, { 0, -1, 1, 0 }, { 0, 1, 0, -1 } },
        new double[,] { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } },
        new double[,] { { 1, 1, 1, 0 }, { 0, 1, -1, -1 } });

    /// <summary>F(4×4, 3×3): points 0, 1, −1, 2, −2, ∞.</summary>
    public static readonly WinogradTransform F4 = new(4,
        new double[,]
        {
            { 4, 0, -5, 0, 1, 0 },
            { 0, -4, -4, 1, 1, 0 },
            { 0, 4, -4, -1, 1, 0 },
            { 0, -2, -1, 2, 1, 0 },
            { 0, 2, -1, -2, 1, 0 },
            { 0, 4, 0, -5, 0, 1 },
        },
        new double[,]
        {
            { 1.0 / 4, 0, 0 },
            { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
            { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
            { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
            { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
            { 0, 0, 1 },
        },
        new double[,]
        {
            { 1, 1, 1, 1, 1, 0 },
            { 0, 1, -1, 2, -2, 0 },
            { 0, 1, 1, 4, 4, 0 },
            { 0, 1, -1, 8, -8, 1 },
        });

    /// <summary>The transform for output tile side 2 or 4.</summary>
    public static WinogradTransform For(int m) => m switch
    {
        2 => F2,
        4 => F4,
        _ => throw new ArgumentOutOfRangeException(nameof(m), m, "F(2,3) and F(4,3) are implemented"),
    };

    /// <summary>
    /// U = G g Gᵀ of every (filter, channel) 3×3 kernel of <paramref name="w"/> (OIHW, I = <paramref name="channels"/>),
    /// in fp64, as α² matrices: u[(f·filters + o)·channels + i] for frequency f = row·α + column.
    /// </summary>
    public float[] TransformWeights(ReadOnlySpan<float> w, int filters, int channels)
    {
        int a = Alpha, freq = Frequencies;
        var u = new float[(long)freq * filters * channels];
        Span<double> gg = stackalloc double[6 * 3];
        for (int o = 0; o < filters; o++)
            for (int i = 0; i < channels; i++)
            {
                var k = w.Slice((o * channels + i) * 9, 9);
                // gg = G·g (α×3), then U = gg·Gᵀ (α×α)
                for (int r = 0; r < a; r++)
                    for (int c = 0; c < 3; c++)
                        gg[r * 3 + c] = G[r, 0] * k[c] + G[r, 1] * k[3 + c] + G[r, 2] * k[6 + c];
                for (int r = 0; r < a; r++)
                    for (int c = 0; c < a; c++)
                    {
                        double v = gg[r * 3] * G[c, 0] + gg[r * 3 + 1] * G[c, 1] + gg[r * 3 + 2] * G[c, 2];
                        u[((long)(r * a + c) * filters + o) * channels + i] = (float)v;
                    }
            }
        return u;
    }
}
