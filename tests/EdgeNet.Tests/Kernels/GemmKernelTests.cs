using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels;
using EdgeNet.Kernels.Activation;
using EdgeNet.Kernels.Gemm;

namespace EdgeNet.Tests.Kernels;

/// <summary>
/// The blocked GEMM (every microkernel, the driver's edge tiles and K blocks, Gemm/MatMul wiring) against the scalar
/// oracle <see cref="F32GemmReference"/> or a double-precision triple loop, for every ISA path this CPU runs.
/// </summary>
public class GemmKernelTests
{
    internal static float[] Random(int count, int seed)
    {
        var rng = new System.Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = 1e-4f * MathF.Max(1, MathF.Abs(expected[i]));
            if (!(MathF.Abs(expected[i] - actual[i]) <= tol))
                Assert.Fail($"{what}: element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    /// <summary>Every microkernel, including those this CPU cannot run natively but whose portable fallback runs (AVX-512, NEON).</summary>
    public static IEnumerable<F32GemmMicrokernel> Microkernels()
    {
        yield return F32Gemm4x8Scalar.Instance;
        if (IsaSupport.IsSupported(Isa.Avx2)) yield return F32Gemm6x16Avx2.Instance;
        yield return F32Gemm8x32Avx512.Instance;
        yield return F32Gemm6x16Neon.Instance;
    }

    private static readonly int[] Sizes = [1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 32, 33, 47, 64, 70];

    [Fact]
    public unsafe void DriverMatchesReferenceOverShapesForEveryMicrokernel()
    {
        foreach (var uk in Microkernels())
            foreach (int m in Sizes)
                foreach (int n in new[] { 1, 5, 16, 17, 33, 70 })
                    foreach (int k in new[] { 1, 3, 17, 64, 70 })
                        foreach (var source in new[] { GemmBSource.Packed, GemmBSource.RowMajor })
                            CheckDriver(uk, m, n, k, source, m * 1000 + n * 10 + k);
        // K longer than one K block, N wider than one column block
        foreach (var uk in Microkernels())
        {
            CheckDriver(uk, 37, 300, 1100, GemmBSource.Packed, 1);
            CheckDriver(uk, 101, 257, 263, GemmBSource.RowMajor, 2);
        }
    }

    private static unsafe void CheckDriver(F32GemmMicrokernel uk, int m, int n, int k, GemmBSource source, int seed)
    {
        var a = Random(m * k, seed);
        var b = Random(k * n, seed + 1);
        var bias = Random(m, seed + 2);
        var expected = new float[m * n];
        F32GemmReference.Run(m, n, k, a, k, b, n, expected, n, accumulate: false);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) expected[i * n + j] = MathF.Max(0, expected[i * n + j] + 0.5f * bias[i]);
        var driver = new F32GemmDriver(uk, m, n, k, source, n, null, [0], [0], [0], null, 1, 0, new FusedActivation(ActivationKind.Relu), 1);
        var packedA = new float[F32GemmPacking.PackedASize(m, k, uk.MR)];
        var packedB = new float[F32GemmPacking.PackedBSize(k, n, uk.NR)];
        var scratch = new float[driver.ScratchBytes / 4 + 1];
        var y = new float[m * n];
        fixed (float* pa = a, pb = b, pBias = bias, pPackedA = packedA, pPackedB = packedB, pScratch = scratch, py = y)
        {
            F32GemmPacking.PackA(pa, m, k, k, false, 1, uk.MR, pPackedA);
            F32GemmPacking.PackB(pb, k, n, n, false, uk.NR, pPackedB);
            driver.Run(pPackedA, source == GemmBSource.Packed ? pPackedB : pb, py, pBias, 0.5f, pScratch);
        }
        AssertClose(expected, y, $"{uk.GetType().Name} {m}x{n}x{k} {source}");
    }

    /// <summary>
    /// Two items with packed B, K split into even blocks of at most maxKc (odd limits, one block, many), bias per
    /// column and an activation, each finished tile also stored transposed (the positions × filters conv form): C
    /// matches the reference, the transposed store holds exactly C's values, and nothing else of it is written.
    /// </summary>
    [Fact]
    public unsafe void DriverWithKBlockLimitAndTransposedStoreMatchesReference()
    {
        foreach (var uk in Microkernels())
            foreach (var (m, n, k, maxKc) in new[] { (49, 64, 300, 50), (17, 33, 70, 512), (8, 32, 1100, 512), (3, 70, 130, 64), (70, 5, 9, 1) })
            {
                int seed = m * 31 + n * 7 + k, ld = m + 3, items = 2;
                var a = Random(items * m * k, seed);
                var b = Random(k * n, seed + 1);
                var bias = Random(n, seed + 2);
                var act = new FusedActivation(ActivationKind.Clip, -0.5f, 0.5f);
                var expected = new float[items * m * n];
                for (int t = 0; t < items; t++)
                    F32GemmReference.Run(m, n, k, a.AsSpan(t * m * k), k, b, n, expected.AsSpan(t * m * n), n, accumulate: false);
                for (int t = 0; t < items; t++)
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) expected[(t * m + i) * n + j] = act.Apply(expected[(t * m + i) * n + j] + bias[j]);
                int packedASize = F32GemmPacking.PackedASize(m, k, uk.MR);
                var driver = new F32GemmDriver(uk, m, n, k, GemmBSource.Packed, n, null, [0, packedASize], [0, 0], [0, m * n], [0, 0],
                    biasRowStride: 0, biasColStride: 1, act, 1, maxKc: maxKc);
                var packedA = new float[items * packedASize];
                var packedB = new float[F32GemmPacking.PackedBSize(k, n, uk.NR)];
                var scratch = new float[driver.ScratchBytes / 4 + 1];
                var c = new float[items * m * n];
                var y = new float[items * n * ld + 1];
                Array.Fill(y, 7f);
                fixed (float* pa = a, pb = b, pBias = bias, pPackedA = packedA, pPackedB = packedB, pScratch = scratch, pc = c, py = y)
                {
                    for (int t = 0; t < items; t++) F32GemmPacking.PackA(pa + t * m * k, m, k, k, false, 1, uk.MR, pPackedA + t * packedASize);
                    F32GemmPacking.PackB(pb, k, n, n, false, uk.NR, pPackedB);
                    driver.RunTransposed(pPackedA, pPackedB, pc, pBias, pScratch, py, [0, n * ld], ld);
                }
                string label = $"{uk.GetType().Name} {m}x{n}x{k} maxKc {maxKc}";
                AssertClose(expected, c, label);
                var transposed = new float[items * n * ld + 1];
                Array.Fill(transposed, 7f);
                for (int t = 0; t < items; t++)
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) transposed[t * n * ld + j * ld + i] = c[(t * m + i) * n + j];
                Assert.Equal(transposed, y);
            }
    }

    /// <summary>The vectorized tile epilogue: every activation, bias per row / per column / per element / none, tails.</summary>
    [Fact]
    public unsafe void DriverEpilogueMatchesScalarActivationForEveryMicrokernel()
    {
        foreach (var uk in Microkernels())
            foreach (var act in Activations)
                foreach (var (rowStride, colStride, hasBias) in new[] { (1, 0, true), (0, 1, true), (-1, 1, true), (0, 0, false) })
                    foreach (int n in new[] { 1, 5, 17, 40 })
                    {
                        int m = 11, k = 9, seed = n * 7 + rowStride * 3 + colStride;
                        int rs = rowStride < 0 ? n : rowStride;
                        var a = Random(m * k, seed);
                        var b = Random(k * n, seed + 1);
                        var bias = Random(m * n, seed + 2);
                        var expected = new float[m * n];
                        F32GemmReference.Run(m, n, k, a, k, b, n, expected, n, accumulate: false);
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++)
                            {
                                float v = expected[i * n + j];
                                if (hasBias) v += 0.75f * bias[i * rs + j * colStride];
                                expected[i * n + j] = act.Apply(v);
                            }
                        var driver = new F32GemmDriver(uk, m, n, k, GemmBSource.RowMajor, n, null, [0], [0], [0], null, rs, colStride, act, 1);
                        var packedA = new float[F32GemmPacking.PackedASize(m, k, uk.MR)];
                        var scratch = new float[driver.ScratchBytes / 4 + 1];
                        var y = new float[m * n];
                        fixed (float* pa = a, pb = b, pBias = bias, pPackedA = packedA, pScratch = scratch, py = y)
                        {
                            F32GemmPacking.PackA(pa, m, k, k, false, 1, uk.MR, pPackedA);
                            driver.Run(pPackedA, pb, py, hasBias ? pBias : null, 0.75f, pScratch);
                        }
                        AssertClose(expected, y, $"{uk.GetType().Name} {act.Kind} bias {rs}/{colStride}/{hasBias} n={n}");
                    }
    }

    /// <summary>Builds Y = Gemm(A, B[, C]) (or MatMul(A, B)) with B (and C) constant or graph inputs.</summary>
    internal static Model Model(string opType, int[] aDims, int[] bDims, float[]? bConst, int[]? cDims, float[]? cConst, FusedActivation act, params IR.Attribute[] attributes)
    {
        var g = new IR.Graph { Name = opType };
        Value Input(string name, int[] dims)
        {
            var v = g.GetOrAddValue(name);
            v.DataType = DataType.Float32;
            v.Shape = dims.Select(d => Dim.Known(d)).ToArray();
            g.Inputs.Add(v);
            return v;
        }
        var node = new Node { OpType = opType, Name = "n", OpsetVersion = 13 };
        node.Inputs.Add(Input("a", aDims));
        node.Inputs.Add(bConst is null ? Input("b", bDims) : g.AddConstant("bc", Tensor.FromArray(bDims, bConst)));
        if (cDims is not null) node.Inputs.Add(cConst is null ? Input("c", cDims) : g.AddConstant("cc", Tensor.FromArray(cDims, cConst)));
        foreach (var at in attributes) node.SetAttribute(at);
        if (act.Kind != ActivationKind.None) act.WriteTo(node);
        var y = g.GetOrAddValue("y");
        node.Outputs.Add(y);
        y.Producer = node;
        g.Nodes.Add(node);
        g.Outputs.Add(y);
        var model = new Model { Graph = g };
        model.Opsets[""] = 13;
        return model;
    }

    private static readonly FusedActivation[] Activations =
    [
        FusedActivation.None, new(ActivationKind.Relu), new(ActivationKind.LeakyRelu, 0.1f), new(ActivationKind.Clip, -0.5f, 0.5f),
        new(ActivationKind.HardSigmoid, 0.2f, 0.5f), new(ActivationKind.HardSwish), new(ActivationKind.Sigmoid), new(ActivationKind.Swish), new(ActivationKind.Tanh),
        new(ActivationKind.LeakyReluFloor, 0.2f, -0.1f),
    ];

    [Fact]
    public void GemmOpMatchesDefinitionForEveryIsaAndThreadCount()
    {
        var shapes = new (int M, int N, int K)[] { (1, 1, 1), (1, 96, 153), (2, 7, 5), (6, 16, 8), (7, 17, 13), (13, 31, 67), (29, 70, 41), (64, 1, 64), (100, 130, 300), (257, 61, 19) };
        int caseIndex = 0;
        foreach (var isa in IsaSupport.Available)
            foreach (int threads in new[] { 1, 2 })
                foreach (var (m, n, k) in shapes)
                {
                    caseIndex++;
                    bool ta = caseIndex % 2 == 0, tb = caseIndex % 3 != 0, constB = caseIndex % 4 != 1;
                    var act = Activations[caseIndex % Activations.Length];
                    int[]? cDims = (caseIndex % 5) switch { 0 => null, 1 => [n], 2 => [m, 1], 3 => [m, n], _ => [1] };
                    float alpha = caseIndex % 3 == 0 ? 0.75f : 1, beta = caseIndex % 2 == 0 ? 1 : -0.5f;
                    var a = Random(m * k, caseIndex);
                    var b = Random(k * n, caseIndex + 100);
                    var c = cDims is null ? null : Random(Shapes.Count(cDims), caseIndex + 200);
                    var expected = new float[m * n];
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            double s = 0;
                            for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                            s *= alpha;
                            if (c is not null) s += beta * c[cDims!.Length == 2 ? (cDims[0] == 1 ? 0 : i * cDims[1]) + (cDims[1] == 1 ? 0 : j) : (cDims[0] == 1 ? 0 : j)];
                            expected[i * n + j] = act.Apply((float)s);
                        }
                    int[] aDims = ta ? [k, m] : [m, k], bDims = tb ? [n, k] : [k, n];
                    var model = Model("Gemm", aDims, bDims, constB ? b : null, cDims, caseIndex % 7 == 0 ? null : c, act,
                        IR.Attribute.Of("transA", ta ? 1L : 0L), IR.Attribute.Of("transB", tb ? 1L : 0L), IR.Attribute.Of("alpha", alpha), IR.Attribute.Of("beta", beta));
                    var feeds = new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray(aDims, a) };
                    if (!constB) feeds["b"] = Tensor.FromArray(bDims, b);
                    if (c is not null && caseIndex % 7 == 0) feeds["c"] = Tensor.FromArray(cDims!, c);
                    var session = new Session(model, new SessionOptions { Isa = isa, Threads = threads });
                    var y = session.Run(feeds)[0];
                    AssertClose(expected, y.AsSpan<float>(), $"Gemm {isa} t{threads} {m}x{n}x{k} ta{ta} tb{tb} C{(cDims is null ? "-" : Shapes.Format(cDims))} {act.Kind}");
                }
    }

    [Fact]
    public void MatMulBatchedBroadcastMatchesReferenceForEveryIsaAndThreadCount()
    {
        var cases = new (int[] A, int[] B)[]
        {
            ([70], [70, 33]), ([5, 9], [9]), ([3, 7, 19], [19, 23]), ([2, 1, 6, 11], [3, 11, 17]), ([1, 1536], [1536, 96]), ([4, 37, 64], [4, 64, 41]),
        };
        int caseIndex = 0;
        foreach (var isa in IsaSupport.Available)
            foreach (int threads in new[] { 1, 2 })
                foreach (var (aDims, bDims) in cases)
                    foreach (bool constB in new[] { true, false })
                    {
                        caseIndex++;
                        var act = Activations[caseIndex % Activations.Length];
                        var a = Random(Shapes.Count(aDims), caseIndex);
                        var b = Random(Shapes.Count(bDims), caseIndex + 1);
                        var model = Model("MatMul", aDims, bDims, constB ? b : null, null, null, act);
                        var feeds = new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray(aDims, a) };
                        if (!constB) feeds["b"] = Tensor.FromArray(bDims, b);
                        var fast = new Session(model, new SessionOptions { Isa = isa, Threads = threads });
                        var y = fast.Run(feeds)[0];
                        var expected = NumpyMatMul(aDims, a, bDims, b, act);
                        AssertClose(expected, y.AsSpan<float>(), $"MatMul {isa} t{threads} {Shapes.Format(aDims)}x{Shapes.Format(bDims)} const{constB}");
                    }
    }

    /// <summary>numpy.matmul written out: 1-D operands promoted, batch dims broadcast.</summary>
    private static float[] NumpyMatMul(int[] aDims, float[] a, int[] bDims, float[] b, FusedActivation act)
    {
        int[] a2 = aDims.Length == 1 ? [1, aDims[0]] : aDims, b2 = bDims.Length == 1 ? [bDims[0], 1] : bDims;
        int m = a2[^2], k = a2[^1], n = b2[^1];
        var batch = Shapes.Broadcast(a2[..^2], b2[..^2])!;
        int count = Shapes.Count(batch);
        var result = new float[count * m * n];
        var index = new int[batch.Length];
        for (int t = 0; t < count; t++)
        {
            int rem = t;
            for (int d = batch.Length - 1; d >= 0; d--) { index[d] = rem % batch[d]; rem /= batch[d]; }
            int Offset(int[] dims)
            {
                int off = 0, rank = dims.Length - 2;
                for (int d = 0; d < rank; d++) off = off * dims[d] + (dims[d] == 1 ? 0 : index[batch.Length - rank + d]);
                return off;
            }
            int ao = Offset(a2) * m * k, bo = Offset(b2) * k * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double)a[ao + i * k + p] * b[bo + p * n + j];
                    result[(t * m + i) * n + j] = act.Apply((float)s);
                }
        }
        return result;
    }
}
