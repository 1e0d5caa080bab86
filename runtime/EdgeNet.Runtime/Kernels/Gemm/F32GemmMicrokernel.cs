namespace EdgeNet.Kernels.Gemm;

/// <summary>
/// One register-blocked GEMM tile, XNNPACK style: C[mr×NR] (+)= A·B over kc steps, where A is a packed panel
/// (kc groups of <see cref="MR"/> consecutive floats, one per row; rows ≥ mr are never read) and B is kc rows of
/// <see cref="NR"/> contiguous floats, <c>ldb</c> floats apart (a packed panel has ldb = NR; a row-major matrix whose
/// columns fill the whole panel is read in place). The kernel always writes NR columns; the driver redirects
/// partial tiles through a temporary. Microkernels are stateless: one instance per ISA is shared.
/// </summary>
public abstract unsafe class F32GemmMicrokernel
{
    /// <summary>Rows of the register tile.</summary>
    public abstract int MR { get; }
    /// <summary>Columns of the register tile (a multiple of the vector width).</summary>
    public abstract int NR { get; }
    /// <summary>K block length whose B panel (KC×NR floats) fits about half of a 32 KiB L1 data cache.</summary>
    public int KC => Math.Max(64, 4096 / NR);
    /// <summary>Vector width in bits of the ISA this tile is written for (0: scalar); the epilogue uses the same width.</summary>
    public virtual int VectorBits => 0;

    /// <summary>
    /// c[i, 0..NR) = (accumulate ? c[i, ·] : 0) + Σ_p a[p·MR + i] · b[p·ldb + ·] for i &lt; mr (1 ≤ mr ≤ MR).
    /// </summary>
    public abstract void Run(int mr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, bool accumulate);

    /// <summary>The microkernel for an ISA path.</summary>
    public static F32GemmMicrokernel For(Isa isa) => isa switch
    {
        Isa.Avx2 => F32Gemm6x16Avx2.Instance,
        Isa.Avx512 => F32Gemm8x32Avx512.Instance,
        Isa.Neon => F32Gemm6x16Neon.Instance,
        _ => F32Gemm4x8Scalar.Instance,
    };
}

/// <summary>A compile-time int: generic microkernels over these structs are specialised by the JIT per row count,
/// so edge tiles (fewer than MR rows) run the same straight-line code with the unused rows removed.</summary>
public interface IRows { static abstract int Value { get; } }
#pragma warning disable CA1815, CA1034 // marker types, never instantiated
public readonly struct Rows1 : IRows { public static int Value => 1; }
public readonly struct Rows2 : IRows { public static int Value => 2; }
public readonly struct Rows3 : IRows { public static int Value => 3; }
public readonly struct Rows4 : IRows { public static int Value => 4; }
public readonly struct Rows5 : IRows { public static int Value => 5; }
public readonly struct Rows6 : IRows { public static int Value => 6; }
public readonly struct Rows7 : IRows { public static int Value => 7; }
public readonly struct Rows8 : IRows { public static int Value => 8; }
#pragma warning restore CA1815, CA1034

/// <summary>Portable scalar tile (4×8): the Scalar ISA path still runs the blocked, packed driver, so its logic is
/// exercised on every machine.</summary>
public sealed unsafe class F32Gemm4x8Scalar : F32GemmMicrokernel
{
    public static readonly F32Gemm4x8Scalar Instance = new();
    public override int MR => 4;
    public override int NR => 8;

    public override void Run(int mr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        float* acc = stackalloc float[4 * 8];
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < 8; j++) acc[i * 8 + j] = accumulate ? c[i * ldc + j] : 0;
        for (int p = 0; p < kc; p++, a += 4, b += ldb)
            for (int i = 0; i < mr; i++)
            {
                float av = a[i];
                float* row = acc + i * 8;
                for (int j = 0; j < 8; j++) row[j] += av * b[j];
            }
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < 8; j++) c[i * ldc + j] = acc[i * 8 + j];
    }
}
