using System.Numerics;
using System.Runtime.InteropServices;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;
using EdgeNet.Training;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--train-gemms [K] [N] [BATCH]</c> (env ROUNDS, default 9): the pieces of a first trained layer's step (the
/// wake-word MLP's 1536→128 at batch 32 by default), each alone, in µs of this thread's CPU time (so time spent
/// descheduled on a busy machine is not counted), the minimum of ROUNDS rounds of 200: the forward X·W with W read in
/// place (as training does) and with W packed into panels (what a panel-stored weight would give), the two packs of X,
/// the weight gradient Xᵀ·dZ on the blocked driver and strip by strip (<see cref="TrainGemm.RunStrips"/>), and the
/// strips feeding an SGD-with-momentum update as the trainer does.
/// </summary>
internal static unsafe class TrainGemmParts
{
    private static readonly int Rounds = int.TryParse(Environment.GetEnvironmentVariable("ROUNDS"), out int r) ? r : 9;

    public static void Run(string[] args)
    {
        int k = args.Length > 0 ? int.Parse(args[0]) : 1536, n = args.Length > 1 ? int.Parse(args[1]) : 128, b = args.Length > 2 ? int.Parse(args[2]) : 32;
        var isa = IsaSupport.Resolve();
        var uk = F32GemmMicrokernel.For(isa);
        var x = Pinned(b * k); var w = Pinned(k * n); var z = Pinned(b * n); var dz = Pinned(b * n); var dw = Pinned(k * n); var v = Pinned(k * n);
        var packedB = Pinned(F32GemmPacking.PackedBSize(k, n, uk.NR) + 16);
        var rnd = new Random(1);
        foreach (var a in new[] { x, w, dz }) for (int i = 0; i < a.Length; i++) a[i] = (float)rnd.NextDouble() - 0.5f;
        var forward = new TrainGemm(isa, b, n, k, false, false, false);
        var packedForward = new F32GemmDriver(uk, b, n, k, GemmBSource.Packed, n, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
        var scratch = Pinned(packedForward.ScratchBytes / sizeof(float) + 16);
        var packedA = Pinned(F32GemmPacking.PackedASize(b, k, uk.MR) + 16);
        var grad = new TrainGemm(isa, k, n, b, true, false, false, rowStrips: true);
        Console.WriteLine($"{isa}: X {b}×{k}, W {k}×{n}; µs of thread CPU time, minimum of {Rounds} rounds of 200");
        fixed (float* px = x, pw = w, pz = z, pdz = dz, pdw = dw, pv = v, ppb = packedB, psc = scratch, ppa = packedA)
        {
            float* cx = px, cw = pw, cz = pz, cdz = pdz, cdw = pdw, cv = pv, cpb = ppb, csc = psc, cpa = ppa;
            double macs = (double)b * k * n;
            F32GemmPacking.PackB(cw, k, n, n, false, uk.NR, cpb);
            F32GemmPacking.PackA(cx, b, k, k, false, 1f, uk.MR, cpa);
            Time("forward X·W, W in place", macs, () => forward.Run(cx, cw, cz));
            Time("forward X·W, W in panels", macs, () => packedForward.Run(cpa, cpb, cz, null, 0, csc));
            // the same in place, with rows 576 bytes apart instead of 512 (a padded layout the trainer does not use)
            var padded = Pinned(k * (n + 16) + 16);
            fixed (float* pp = padded)
            {
                float* cp = pp;
                var stride = new F32GemmDriver(uk, b, n, k, GemmBSource.RowMajor, n + 16, null, [0], [0], [0], null, 0, 0, FusedActivation.None, 1);
                Time("forward, W rows padded", macs, () => stride.Run(cpa, cp, cz, null, 0, csc));
            }
            Time("pack X (MR rows)", 0, () => forward.PackA(cx));
            Time("pack Xᵀ (for dW)", 0, () => grad.PackA(cx));
            grad.PackA(cx);
            Time("dW = Xᵀ·dZ, driver", macs, () => grad.Run(cx, cdz, cdw, aPacked: true));
            var read = new ReadSink();
            Time("dW strips", macs, () => grad.RunStrips(cdz, read));
            var sgd = new SgdSink(cw, cv, n);
            Time("dW strips + SGD update", macs, () => grad.RunStrips(cdz, sgd));
            Time("dW driver, then SGD", macs, () => { grad.Run(cx, cdz, cdw, aPacked: true); sgd.Rows(0, k, cdw, n); });

        }
    }

    /// <summary>Reads each strip's first value (the strip itself stays in L1).</summary>
    private sealed class ReadSink : IGemmRowSink
    {
        public float Sum;
        public void Rows(int row0, int rows, float* values, int stride) => Sum += values[0];
    }

    /// <summary>v = 0.9·v + g; w −= 1e-6·v over the strip's rows (the trainer's SGD arithmetic).</summary>
    private sealed class SgdSink(float* w, float* v, int n) : IGemmRowSink
    {
        public void Rows(int row0, int rows, float* values, int stride)
        {
            var lr = new Vector<float>(1e-6f); var mu = new Vector<float>(0.9f);
            for (int r = 0; r < rows; r++)
            {
                float* g = values + (nint)r * stride, wr = w + (nint)(row0 + r) * n, vr = v + (nint)(row0 + r) * n;
                int i = 0;
                for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
                {
                    var vi = mu * Vector.Load(vr + i) + Vector.Load(g + i);
                    vi.Store(vr + i);
                    (Vector.Load(wr + i) - lr * vi).Store(wr + i);
                }
                for (; i < n; i++) { vr[i] = 0.9f * vr[i] + g[i]; wr[i] -= 1e-6f * vr[i]; }
            }
        }
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds, Nanoseconds; }

    /// <summary>This thread's CPU time in µs (CLOCK_THREAD_CPUTIME_ID = 3 on Linux).</summary>
    private static double ThreadMicroseconds() => ClockGetTime(3, out var t) == 0 ? t.Seconds * 1e6 + t.Nanoseconds / 1e3 : throw new InvalidOperationException("clock_gettime failed");

    private static float[] Pinned(int n) => GC.AllocateArray<float>(n, pinned: true);

    private static void Time(string name, double macs, Action run)
    {
        for (int i = 0; i < 50; i++) run();
        double best = double.MaxValue;
        for (int r = 0; r < Rounds; r++)
        {
            double t = ThreadMicroseconds();
            for (int i = 0; i < 200; i++) run();
            best = Math.Min(best, (ThreadMicroseconds() - t) / 200);
        }
        Console.WriteLine($"{name,-26} {best,7:F1} µs" + (macs > 0 ? $"  {macs / best / 1e3,6:F1} GMAC/s" : ""));
    }
}
