using System.Runtime.CompilerServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Elementwise;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Ops.Gemm;

/// <summary>
/// Gemm: Y = α·A'·B' + β·C, A' = transA ? Aᵀ : A, B' likewise, C broadcast to M×N (optional from opset 11).
/// A constant B is packed once into the microkernel's NR panels (a non-constant B is read in place, or packed per run
/// when transposed); A is packed per run with α folded in; β·C (scalar, row, column or full) and the fused activation
/// are the driver's per-tile epilogue. Empty shapes take the reference loops.
/// </summary>
public sealed class GemmOp : OpDefinition
{
    public override string OpType => "Gemm";

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        if (a.Length != 2 || b.Length != 2) throw ctx.Error($"A {Shapes.Format(a)} and B {Shapes.Format(b)} must be 2-D");
        bool ta = ctx.Int("transA", 0) != 0, tb = ctx.Int("transB", 0) != 0;
        int m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
        int kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
        if (k != kb) throw ctx.Error($"inner dimensions differ: A' is {m}x{k}, B' is {kb}x{n}");
        if (ctx.HasInput(2) && Shapes.Broadcast([m, n], ctx.InputShape(2)) is var bc && (bc is null || !bc.AsSpan().SequenceEqual([m, n])))
            throw ctx.Error($"C {Shapes.Format(ctx.InputShape(2))} does not broadcast to {m}x{n}");
        ctx.SetOutput(0, DataType.Float32, [m, n]);
    }

    public override long CountMacs(OpContext ctx) => (long)Shapes.Count(ctx.OutputShape(0)) * (ctx.Int("transA", 0) != 0 ? ctx.InputShape(0)[0] : ctx.InputShape(0)[1]);

    public override Kernel CreateKernel(OpContext ctx)
    {
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        bool ta = ctx.Int("transA", 0) != 0, tb = ctx.Int("transB", 0) != 0;
        int m = ctx.OutputShape(0)[0], n = ctx.OutputShape(0)[1], k = ta ? a[0] : a[1];
        float alpha = ctx.Float("alpha", 1), beta = ctx.Float("beta", 1);
        var activation = FusedActivation.Of(ctx.Node);
        if (m == 0 || n == 0 || k == 0)
        {
            float[]? packedB = ctx.InputConstant(1) is { } bConst ? Pack(bConst.AsSpan<float>(), k, n, tb) : null;
            Broadcast? c = ctx.HasInput(2) ? new Broadcast([m, n], ctx.InputShape(2)) : null;
            return new ReferenceGemmKernel(m, n, k, ta, tb, alpha, beta, packedB, c, activation);
        }
        if (m == 1 && ctx.InputConstant(1) is { } gemvB && (!ctx.HasInput(2) || ctx.InputConstant(2) is not null))
        {
            var bias = new float[n];
            if (ctx.HasInput(2) && beta != 0)
            {
                var cData = ctx.InputConstant(2)!.AsSpan<float>();
                int cn = ctx.InputShape(2) is { Length: > 0 } cDims ? cDims[^1] : 1;
                for (int j = 0; j < n; j++) bias[j] = beta * cData[cn == 1 ? 0 : j];
            }
            if (F32Gemv.Create(ctx.Isa, gemvB.AsSpan<float>(), k, n, tb, alpha, bias, activation, ctx.Threads) is { } gemv)
                return new GemvKernel(gemv);
        }
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        int ldb = tb ? k : n;
        float[]? panels = null;
        var source = GemmBSource.RowMajor;
        if (ctx.InputConstant(1) is { } constB)
        {
            panels = PackPanels(constB.AsSpan<float>(), k, n, ldb, tb, uk.NR);
            source = GemmBSource.Packed;
        }
        else if (tb) source = GemmBSource.Packed; // packed per run
        int rowStride = 0, colStride = 0;
        if (ctx.HasInput(2))
        {
            var cDims = ctx.InputShape(2);
            int cm = cDims.Length == 2 ? cDims[0] : 1, cn = cDims.Length >= 1 ? cDims[^1] : 1;
            rowStride = cm == 1 ? 0 : cn;
            colStride = cn == 1 ? 0 : 1;
        }
        var driver = new F32GemmDriver(uk, m, n, k, source, ldb, null, [0], [0], [0], null, rowStride, colStride, activation, ctx.Threads);
        return new GemmKernel(driver, uk, m, n, k, ta, tb, alpha, beta, panels);
    }

    /// <summary>B as NR panels in pinned memory (the kernel takes its address each run).</summary>
    internal static unsafe float[] PackPanels(ReadOnlySpan<float> b, int k, int n, int ldb, bool transposed, int nr)
    {
        var panels = GC.AllocateArray<float>(F32GemmPacking.PackedBSize(k, n, nr), pinned: true);
        fixed (float* src = b)
        fixed (float* dst = panels)
            F32GemmPacking.PackB(src, k, n, ldb, transposed, nr, dst);
        return panels;
    }

    /// <summary>B' as K×N row-major.</summary>
    internal static float[] Pack(ReadOnlySpan<float> b, int k, int n, bool transposed)
    {
        var packed = new float[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) packed[p * n + j] = transposed ? b[j * k + p] : b[p * n + j];
        return packed;
    }

    /// <summary>
    /// The blocked path: A (times alpha) packed into MR panels per run, B packed once when constant (or per run when
    /// transposed), bias β·C and the activation applied per tile by the driver.
    /// </summary>
    private sealed unsafe class GemmKernel(F32GemmDriver driver, F32GemmMicrokernel uk, int m, int n, int k, bool ta, bool tb, float alpha, float beta, float[]? panels) : Kernel
    {
        private readonly int _aFloats = F32GemmPacking.PackedASize(m, k, uk.MR);
        private readonly int _bFloats = panels is null && tb ? F32GemmPacking.PackedBSize(k, n, uk.NR) : 0;

        public override int ScratchBytes => (_aFloats + _bFloats) * sizeof(float) + driver.ScratchBytes;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var bias = HasInput(2) ? Input<float>(ctx, 2) : default;
            fixed (float* a = Input<float>(ctx, 0))
            fixed (float* bIn = Input<float>(ctx, 1))
            fixed (float* y = Output<float>(ctx, 0))
            fixed (float* c = bias)
            fixed (byte* scratchBytes = Scratch)
            fixed (float* constPanels = panels)
            {
                float* scratch = (float*)scratchBytes;
                F32GemmPacking.PackA(a, m, k, ta ? m : k, ta, alpha, uk.MR, scratch);
                float* b = bIn;
                if (panels is not null) b = constPanels;
                else if (tb)
                {
                    b = scratch + _aFloats;
                    F32GemmPacking.PackB(bIn, k, n, k, transposed: true, uk.NR, b);
                }
                driver.Run(ctx, scratch, b, y, HasInput(2) ? c : null, beta, scratch + _aFloats + _bFloats);
            }
        }
    }

    /// <summary>Batch-1 dense layer with constant weights (M = 1): the streaming matrix-vector product.</summary>
    internal sealed unsafe class GemvKernel(F32Gemv gemv) : Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            fixed (float* x = Input<float>(ctx, 0))
            fixed (float* y = Output<float>(ctx, 0))
                gemv.Run(ctx, x, y);
        }
    }

    /// <summary>Degenerate shapes (an empty dimension): the reference loops.</summary>
    private sealed class ReferenceGemmKernel(int m, int n, int k, bool ta, bool tb, float alpha, float beta, float[]? packedB, Broadcast? c, FusedActivation activation) : Kernel
    {
        private readonly int[] _offsets = COffsets(c, m * n);

        private static int[] COffsets(Broadcast? c, int count)
        {
            if (c is null) return [];
            var offsets = new int[count];
            c.Offsets(0, offsets);
            return offsets;
        }

        public override int ScratchBytes => (ta ? m * k * 4 : 0) + (packedB is null && tb ? k * n * 4 : 0);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var y = Output<float>(ctx, 0);
            var scratch = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Scratch);
            ReadOnlySpan<float> a = Input<float>(ctx, 0);
            if (ta)
            {
                var at = scratch[..(m * k)];
                for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[i * k + p] = a[p * m + i];
                a = at;
                scratch = scratch[(m * k)..];
            }
            ReadOnlySpan<float> b;
            if (packedB is not null) b = packedB;
            else if (tb)
            {
                var bt = scratch[..(k * n)];
                var raw = Input<float>(ctx, 1);
                for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[p * n + j] = raw[j * k + p];
                b = bt;
            }
            else b = Input<float>(ctx, 1);

            F32GemmReference.Run(m, n, k, a, k, b, n, y, n, accumulate: false);
            if (alpha != 1) foreach (ref float v in y) v *= alpha;
            if (c is not null && beta != 0)
            {
                var cv = Input<float>(ctx, 2);
                for (int i = 0; i < y.Length; i++) y[i] += beta * cv[_offsets[i]];
            }
            activation.Apply(y);
        }
    }
}

/// <summary>
/// MatMul with numpy semantics: batched, broadcast batch dims, 1-D operands promoted then squeezed. Each output batch
/// is one driver item (threads split items and column blocks); a constant B is packed into panels once per B batch.
/// </summary>
public sealed class MatMulOp : OpDefinition
{
    public override string OpType => "MatMul";

    private static (int[] A, int[] B, int[] Batch, int M, int K, int N, int[] Output) Shapes2(OpContext ctx)
    {
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        if (a.Length == 0 || b.Length == 0) throw ctx.Error("MatMul operands must have rank ≥ 1");
        var a2 = a.Length == 1 ? new[] { 1, a[0] } : a;
        var b2 = b.Length == 1 ? new[] { b[0], 1 } : b;
        int m = a2[^2], k = a2[^1], kb = b2[^2], n = b2[^1];
        if (k != kb) throw ctx.Error($"inner dimensions differ: {Shapes.Format(a)} x {Shapes.Format(b)}");
        var batch = Shapes.Broadcast(a2[..^2], b2[..^2]) ?? throw ctx.Error($"batch dims of {Shapes.Format(a)} and {Shapes.Format(b)} do not broadcast");
        var output = new List<int>(batch);
        if (a.Length > 1) output.Add(m);
        if (b.Length > 1) output.Add(n);
        return (a2, b2, batch, m, k, n, output.ToArray());
    }

    public override void Infer(OpContext ctx)
    {
        ctx.ExpectType(0, DataType.Float32);
        ctx.SetOutput(0, DataType.Float32, Shapes2(ctx).Output);
    }

    public override long CountMacs(OpContext ctx)
    {
        var s = Shapes2(ctx);
        return (long)Shapes.Count(s.Batch) * s.M * s.N * s.K;
    }

    public override Kernel CreateKernel(OpContext ctx)
    {
        var s = Shapes2(ctx);
        int batches = Shapes.Count(s.Batch);
        var bc = new Broadcast(s.Batch, s.A[..^2], s.B[..^2]);
        var aOff = new int[batches];
        var bOff = new int[batches];
        bc.Offsets(0, aOff);
        bc.Offsets(1, bOff);
        var activation = FusedActivation.Of(ctx.Node);
        if (batches == 0 || s.M == 0 || s.N == 0 || s.K == 0) return new ReferenceMatMulKernel(s.M, s.K, s.N, aOff, bOff, activation);
        var uk = F32GemmMicrokernel.For(ctx.Isa);
        int aBatches = Shapes.Count(s.A[..^2]), bBatches = Shapes.Count(s.B[..^2]);
        if (bBatches == 1 && aBatches == batches && batches > 1)
        {
            // one B for every batch and A not broadcast: the batches of A (and of Y) are consecutive row blocks, so
            // the whole product is one GEMM of batches·M rows (e.g. [T, 1, K]·[K, N] is one T×K·K×N, not T GEMVs)
            s.M *= batches;
            batches = aBatches = 1;
            aOff = bOff = [0];
        }
        if (batches == 1 && s.M == 1 && ctx.InputConstant(1) is { } gemvB
            && F32Gemv.Create(ctx.Isa, gemvB.AsSpan<float>(), s.K, s.N, false, 1, [], activation, ctx.Threads) is { } gemv)
            return new GemmOp.GemvKernel(gemv);
        int aSize = F32GemmPacking.PackedASize(s.M, s.K, uk.MR);
        float[]? panels = null;
        var source = GemmBSource.RowMajor;
        int bStride = s.K * s.N;
        if (ctx.InputConstant(1) is { } constB)
        {
            // weights: every batch of B packed into NR panels once
            bStride = F32GemmPacking.PackedBSize(s.K, s.N, uk.NR);
            var bData = constB.AsSpan<float>();
            panels = GC.AllocateArray<float>(bStride * bBatches, pinned: true);
            for (int t = 0; t < bBatches; t++)
            {
                var packed = GemmOp.PackPanels(bData.Slice(t * s.K * s.N, s.K * s.N), s.K, s.N, s.N, false, uk.NR);
                packed.CopyTo(panels, t * bStride);
            }
            source = GemmBSource.Packed;
        }
        var aOffsets = new int[batches];
        var bOffsets = new int[batches];
        var cOffsets = new int[batches];
        for (int t = 0; t < batches; t++)
        {
            aOffsets[t] = aOff[t] * aSize;
            bOffsets[t] = bOff[t] * bStride;
            cOffsets[t] = t * s.M * s.N;
        }
        var driver = new F32GemmDriver(uk, s.M, s.N, s.K, source, s.N, null, aOffsets, bOffsets, cOffsets, null, 0, 0, activation, ctx.Threads);
        return new MatMulKernel(driver, uk, s.M, s.K, aBatches, aSize, panels);
    }

    /// <summary>Every batch of A packed into MR panels per run, then one threaded driver run over all batches.</summary>
    private sealed unsafe class MatMulKernel(F32GemmDriver driver, F32GemmMicrokernel uk, int m, int k, int aBatches, int aSize, float[]? panels) : Kernel
    {
        public override int ScratchBytes => aBatches * aSize * sizeof(float) + driver.ScratchBytes;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            fixed (float* a = Input<float>(ctx, 0))
            fixed (float* bIn = Input<float>(ctx, 1))
            fixed (float* y = Output<float>(ctx, 0))
            fixed (byte* scratchBytes = Scratch)
            fixed (float* constPanels = panels)
            {
                float* scratch = (float*)scratchBytes;
                for (int t = 0; t < aBatches; t++)
                    F32GemmPacking.PackA(a + (nint)t * m * k, m, k, k, false, 1, uk.MR, scratch + (nint)t * aSize);
                driver.Run(ctx, scratch, panels is null ? bIn : constPanels, y, null, 0, scratch + (nint)aBatches * aSize);
            }
        }
    }

    /// <summary>Degenerate shapes (an empty dimension): the reference loops.</summary>
    private sealed class ReferenceMatMulKernel(int m, int k, int n, int[] aOff, int[] bOff, FusedActivation activation) : Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(ExecutionContext ctx)
        {
            var a = Input<float>(ctx, 0);
            var b = Input<float>(ctx, 1);
            var y = Output<float>(ctx, 0);
            for (int i = 0; i < aOff.Length; i++)
                F32GemmReference.Run(m, n, k, a[(aOff[i] * m * k)..], k, b[(bOff[i] * k * n)..], n, y.Slice(i * m * n, m * n), n, accumulate: false);
            activation.Apply(y);
        }
    }
}
