using System.Buffers.Binary;
using EdgeNet.Execution;
using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Kernels.Activation;
using EdgeNet.Tests.Passes;

namespace EdgeNet.Tests.Format;

public sealed class EnetFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgenet-enet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A model using most of what the manifest can hold: a symbolic input dim, a Conv with a fused activation (string
    /// and floats attributes), an If with a run-time condition (subgraphs, branch-local weights), a tensor attribute
    /// (ConstantOfShape's value), int64 weights, metadata and extra opsets.
    /// </summary>
    internal static Model Sample(float scale = 1)
    {
        var b = new GraphBuilder(13);
        var x = b.Input("x", 1, 2, 5, 5);
        x.Shape![0] = Dim.Named("batch");
        var cond = b.Graph.GetOrAddValue("cond");
        cond.DataType = DataType.Bool;
        cond.Shape = [];
        b.Graph.Inputs.Add(cond);

        var w = b.Random(1, 3, 2, 3, 3);
        foreach (ref float f in w.Constant!.AsSpan<float>()) f *= scale;
        var convNode = b.Node("Conv", [x, w, b.Random(2, 3)], "", IR.Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        new FusedActivation(ActivationKind.LeakyRelu, 0.1f).WriteTo(convNode);
        var conv = convNode.Outputs[0];

        IR.Graph Branch(string op, float k)
        {
            var g = new IR.Graph { Name = op + "_branch" };
            var kv = g.AddConstant("k", Tensor.FromArray([3, 1, 1], new[] { k, 2 * k, 3 * k }));
            var n = new Node { OpType = op, Name = op + "_inner", OpsetVersion = 13 };
            n.Inputs.Add(conv);
            n.Inputs.Add(kv);
            var v = g.GetOrAddValue("v");
            n.Outputs.Add(v);
            v.Producer = n;
            g.Nodes.Add(n);
            g.Outputs.Add(v);
            return g;
        }
        var ifNode = b.Node("If", [cond], "", IR.Attribute.Of("then_branch", Branch("Add", 0.5f)), IR.Attribute.Of("else_branch", Branch("Mul", -2)));
        var flat = b.Op("Reshape", ifNode.Outputs[0], b.Ints(0, -1));
        var filled = b.Op("ConstantOfShape", [b.Ints(2, 3)], IR.Attribute.Of("value", Tensor.FromArray([1], new[] { 2.5f })));
        // two weights of at least 1 KiB (mapped, 64-byte aligned in version 2); the rest are small (packed)
        var projected = b.Op("MatMul", b.Op("MatMul", flat, b.Random(7, 75, 4)), b.Random(8, 4, 80));
        var m = b.Model(flat, b.Op("Add", filled, b.Scalar(1)), projected);
        m.ProducerName = "EnetFormatTests";
        m.Metadata["purpose"] = "round trip";
        m.Opsets["edgenet"] = 1;
        return m;
    }

    private static Dictionary<string, Tensor> Inputs(bool cond)
    {
        var x = Tensor.Zeros(DataType.Float32, [2, 2, 5, 5]);
        var rng = new Random(5);
        foreach (ref float f in x.AsSpan<float>()) f = (float)(rng.NextDouble() * 2 - 1);
        return new() { ["x"] = x, ["cond"] = new Tensor(DataType.Bool, [], new byte[] { (byte)(cond ? 1 : 0) }) };
    }

    private string Written(Model? model = null, uint version = EnetHeader.CurrentVersion)
    {
        string path = Path.Combine(_dir, "model.enet");
        EnetWriter.Write(model ?? Sample(), path, version);
        return path;
    }

    private static void AssertSameOutputs(Model expectedModel, Model actualModel)
    {
        foreach (bool cond in new[] { true, false })
        {
            var expected = new Session(expectedModel).Run(Inputs(cond));
            var actual = new Session(actualModel).Run(Inputs(cond));
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i].Dims, actual[i].Dims);
                Assert.Equal(expected[i].Data.ToArray(), actual[i].Data.ToArray()); // same kernels on the same bytes: bit-exact
            }
        }
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    [InlineData(3u)]
    public void RoundTripKeepsGraphMetadataAndOutputs(uint version)
    {
        var loaded = EnetReader.Load(Written(version: version));
        var original = Sample();
        AssertSameOutputs(original, loaded);
        Assert.Equal(original.Graph.Nodes.Select(n => n.OpType), loaded.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal("EnetFormatTests", loaded.ProducerName);
        Assert.Equal("round trip", loaded.Metadata["purpose"]);
        Assert.Equal(1, loaded.Opsets["edgenet"]);
        Assert.Equal(13, loaded.Opsets[""]);
        Assert.Equal(Dim.Named("batch"), loaded.Graph.Inputs[0].Shape![0]);
        var conv = loaded.Graph.Nodes.Single(n => n.OpType == "Conv");
        Assert.Equal(new FusedActivation(ActivationKind.LeakyRelu, 0.1f), FusedActivation.Of(conv));
        Assert.Equal(new long[] { 1, 1, 1, 1 }, conv.GetInts("pads"));
        var ifNode = loaded.Graph.Nodes.Single(n => n.OpType == "If");
        Assert.Equal(new float[] { -2, -4, -6 }, ifNode.GetGraph("else_branch")!.Values["k"].Constant!.ToFloatArray());
        Assert.Equal(2.5f, loaded.Graph.Nodes.Single(n => n.OpType == "ConstantOfShape").GetTensor("value")!.ToFloatArray()[0]);
    }

    private static IEnumerable<Tensor> AllWeights(Model m) => m.Graph.Initializers.Select(v => v.Constant!)
        .Concat(m.Graph.Nodes.SelectMany(n => n.Attributes.Values).SelectMany(a => (a.Graph?.Initializers.Select(v => v.Constant!) ?? []).Concat(a.Tensor is null ? [] : [a.Tensor])));

    [Fact]
    public unsafe void Version1WeightsAreMappedAt64ByteBoundaries()
    {
        string path = Written(version: 1);
        var loaded = EnetReader.Load(path);
        var bytes = File.ReadAllBytes(path);
        ulong weightsOffset = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(32));
        Assert.Equal(0UL, weightsOffset % 64);
        int count = 0;
        foreach (var t in AllWeights(loaded))
        {
            fixed (byte* p = t.Data.Span) Assert.Equal(0L, (long)p % 64);
            Assert.False(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(t.Data, out _), "version 1 maps every weight");
            count++;
        }
        Assert.True(count >= 8, $"{count} weights");
    }

    /// <summary>
    /// Version 2: weights of at least 1 KiB are slices of the mapping (no copy) at 64-byte aligned addresses; smaller
    /// ones live in one pinned array, each at a multiple of its element size.
    /// </summary>
    [Fact]
    public unsafe void Version2MapsBigWeightsAlignedAndPacksSmallOnes()
    {
        var loaded = EnetReader.Load(Written());
        int big = 0, small = 0;
        foreach (var t in AllWeights(loaded))
        {
            bool inArray = System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(t.Data, out _);
            fixed (byte* p = t.Data.Span)
            {
                if (t.Data.Length >= EnetHeader.BigTensorBytes)
                {
                    Assert.False(inArray, "a big weight is a slice of the mapping");
                    Assert.Equal(0L, (long)p % 64);
                    big++;
                }
                else
                {
                    Assert.True(inArray, "a small weight is unpacked into managed memory");
                    Assert.Equal(0L, (long)p % t.DataType.SizeOf());
                    small++;
                }
            }
        }
        Assert.Equal(2, big);
        Assert.True(small >= 6, $"{small} small weights");
    }

    /// <summary>
    /// The v1 file committed beside this test (ds_cnn quantized to int8, written by the version 1 writer before
    /// version 2 existed) still loads and runs, and gives the same outputs bit for bit once rewritten as version 2.
    /// </summary>
    [Fact]
    public void CommittedVersion1FileStillLoadsAndRuns()
    {
        string fixture = Path.Combine(RealModels.RepoPaths.Root, "tests/EdgeNet.Tests/Format/Fixtures/ds_cnn-int8-v1.enet");
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(fixture).AsSpan(8)));
        var v1 = EnetReader.Load(fixture);
        Assert.Contains(v1.Graph.Nodes, n => n.OpType == "QLinearConv");
        string data = Path.Combine(Path.GetDirectoryName(RealModels.RepoPaths.Model("generated/ds_cnn/model.onnx"))!, "test_data_set_0");
        var (name, x) = EdgeNet.Onnx.TensorFiles.ReadPb(Path.Combine(data, "input_0.pb"));
        var expected = EdgeNet.Onnx.TensorFiles.ReadPb(Path.Combine(data, "output_0.pb")).Tensor.ToFloatArray();
        var feeds = new Dictionary<string, Tensor> { [v1.Graph.Inputs[0].Name] = x };
        var fromV1 = new Session(v1).Run(feeds)[0].ToFloatArray();
        // int8 against the fp32 reference output: same class, close logits
        Assert.Equal(Array.IndexOf(expected, expected.Max()), Array.IndexOf(fromV1, fromV1.Max()));
        double err = 0, sig = 0;
        for (int i = 0; i < expected.Length; i++) { err += Math.Pow(expected[i] - fromV1[i], 2); sig += expected[i] * expected[i]; }
        Assert.True(10 * Math.Log10(sig / err) > 25, $"SNR {10 * Math.Log10(sig / err):F1} dB (input '{name}')");

        string v2Path = Written(v1, 2);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(v2Path).AsSpan(8)));
        Assert.True(new FileInfo(v2Path).Length < new FileInfo(fixture).Length, "version 2 is smaller");
        Assert.Equal(fromV1, new Session(EnetReader.Load(v2Path)).Run(feeds)[0].ToFloatArray());
    }

    [Fact]
    public void Crc64IsTheXzVariant()
    {
        Assert.Equal(0x995DC9BBDF1939FAUL, Crc64.Compute("123456789"u8));
        Assert.Equal(0UL, Crc64.Compute([]));
        // incremental use gives the same result as one call
        ulong crc = Crc64.Update(Crc64.Begin, "1234"u8);
        Assert.Equal(0x995DC9BBDF1939FAUL, Crc64.End(Crc64.Update(crc, "56789"u8)));
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    public void HeaderMatchesTheDocumentedLayout(uint version)
    {
        var file = File.ReadAllBytes(Written(version: version)).AsSpan();
        Assert.Equal("ENET\r\n\u001a\n"u8.ToArray(), file[..8].ToArray());
        Assert.Equal(version, BinaryPrimitives.ReadUInt32LittleEndian(file[8..]));
        Assert.Equal(64u, BinaryPrimitives.ReadUInt32LittleEndian(file[12..]));
        ulong manifestOffset = BinaryPrimitives.ReadUInt64LittleEndian(file[16..]);
        ulong manifestLength = BinaryPrimitives.ReadUInt64LittleEndian(file[24..]);
        ulong weightsOffset = BinaryPrimitives.ReadUInt64LittleEndian(file[32..]);
        ulong weightsLength = BinaryPrimitives.ReadUInt64LittleEndian(file[40..]);
        Assert.Equal(64UL, manifestOffset);
        Assert.Equal((64 + manifestLength + 63) / 64 * 64, weightsOffset);
        Assert.Equal((ulong)file.Length, weightsOffset + weightsLength);
        Assert.Equal((ulong)file.Length, BinaryPrimitives.ReadUInt64LittleEndian(file[48..]));
        Assert.True(file[(int)(64 + manifestLength)..(int)weightsOffset].IndexOfAnyExcept((byte)0) < 0, "padding is zeros");
        ulong crc = Crc64.End(Crc64.Update(Crc64.Update(Crc64.Begin, file[..56]), file[64..]));
        Assert.Equal(crc, BinaryPrimitives.ReadUInt64LittleEndian(file[56..]));
        if (version == 1)
        {
            var manifest = EdgeNet.Format.Proto.Manifest.Parser.ParseFrom(file.Slice(64, (int)manifestLength));
            Assert.Equal(1u, manifest.FormatVersion);
            Assert.All(manifest.Graph.Weights, w => Assert.Equal(0UL, w.Offset % 64));
            return;
        }
        // version 2: uint32 uncompressed length, then a Brotli stream of a ModelDef
        var region = file.Slice(64, (int)manifestLength);
        var raw = new byte[BinaryPrimitives.ReadUInt32LittleEndian(region)];
        Assert.True(System.IO.Compression.BrotliDecoder.TryDecompress(region[4..], raw, out int written));
        Assert.Equal(raw.Length, written);
        var def = EdgeNet.Format.Proto.ModelDef.Parser.ParseFrom(raw);
        Assert.Equal(2u, def.FormatVersion);
        Assert.Equal("", def.Strings[0]);
        Assert.Equal(def.Strings.Order(StringComparer.Ordinal), def.Strings); // sorted
        var big = def.Graph.Weights.Where(w => !w.Packed).ToList();
        Assert.Equal(2, big.Count);
        Assert.All(big, w => Assert.Equal(0UL, w.Offset % 64));
        Assert.Equal(weightsLength, big.Max(w => w.Offset) + 4 * 80 * 4); // the last big weight ends the file
        Assert.Equal(def.Packed.Length, (int)def.PackedGroups.Where((_, i) => i % 2 == 1).Sum(x => x));
    }

    /// <summary>The header's claim of the file length after corrupting one of its bytes.</summary>
    private static ulong ClaimedLength(byte[] file) => BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(48));

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    [InlineData(3u)]
    public void AnyCorruptedByteIsAModelFormatErrorNamingTheProblem(uint version)
    {
        var good = File.ReadAllBytes(Written(version: version));
        Assert.True(good.Length > 256);
        for (int offset = 0; offset < good.Length; offset++)
        {
            foreach (byte flip in new byte[] { 0x01, 0x80, 0xFF })
            {
                var bad = (byte[])good.Clone();
                bad[offset] ^= flip;
                string expected = offset switch
                {
                    < 8 => "bad magic",
                    // a flipped version may name another version this reader knows (2 ^ 1 = 3): then the checksum catches it
                    < 12 => bad[8] is >= 1 and <= (byte)EnetHeader.CurrentVersion && bad.AsSpan(9, 3).IndexOfAnyExcept((byte)0) < 0 ? "checksum mismatch" : "unsupported version",
                    >= 48 and < 56 when ClaimedLength(bad) > (ulong)bad.Length => "truncated",
                    _ => "checksum mismatch",
                };
                var ex = LoadBytes(bad);
                Assert.True(ex is ModelFormatException, $"offset {offset} ^ 0x{flip:X2}: {ex?.GetType().Name ?? "no exception"}: {ex?.Message}");
                Assert.True(ex!.Message.Contains(expected, StringComparison.Ordinal), $"offset {offset} ^ 0x{flip:X2}: '{ex.Message}' should say {expected}");
            }
        }
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    public void EveryTruncationIsReportedAsTruncated(uint version)
    {
        var good = File.ReadAllBytes(Written(version: version));
        for (int length = 0; length < good.Length; length++)
        {
            var ex = LoadBytes(good.AsSpan(0, length).ToArray());
            Assert.True(ex is ModelFormatException, $"length {length}: {ex?.GetType().Name ?? "no exception"}: {ex?.Message}");
            Assert.True(ex!.Message.Contains("truncated", StringComparison.Ordinal), $"length {length}: {ex.Message}");
        }
        // bytes appended after the end the header gives are corruption too
        var extended = LoadBytes([.. good, 0]);
        Assert.IsType<ModelFormatException>(extended);
        Assert.Contains("checksum mismatch", extended.Message);
    }

    [Fact]
    public void ForeignFilesAndNewerVersionsAreNamedAsSuch()
    {
        Assert.Contains("bad magic", LoadBytes("ONNX"u8.ToArray())!.Message);
        Assert.Contains("bad magic", LoadBytes(new byte[4096])!.Message);
        Assert.Contains("truncated", LoadBytes([])!.Message); // an empty file: nothing tells it apart from a cut-off one

        var newer = File.ReadAllBytes(Written());
        BinaryPrimitives.WriteUInt32LittleEndian(newer.AsSpan(8), EnetHeader.CurrentVersion + 1);
        BinaryPrimitives.WriteUInt64LittleEndian(newer.AsSpan(56), EnetHeader.ChecksumOf(newer));
        var ex = LoadBytes(newer);
        Assert.IsType<ModelFormatException>(ex);
        Assert.Contains("unsupported version", ex.Message);
        Assert.Contains($"version {EnetHeader.CurrentVersion + 1}", ex.Message);
        BinaryPrimitives.WriteUInt32LittleEndian(newer.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(newer.AsSpan(56), EnetHeader.ChecksumOf(newer));
        Assert.Contains("unsupported version", LoadBytes(newer)!.Message);

        var missing = Record.Exception(() => EnetReader.Load(Path.Combine(_dir, "nope.enet")));
        Assert.IsType<ModelFormatException>(missing);
    }

    /// <summary>
    /// Bytes changed and the checksum recomputed (a buggy or hostile writer): loading either works or fails with an
    /// EdgeNet error — ModelFormatException for bytes that do not parse, InvalidModelException for a parsed but
    /// invalid graph — never an IndexOutOfRange, NullReference or the like.
    /// </summary>
    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    public void ManifestGarbageWithAValidChecksumFailsCleanly(uint version)
    {
        var good = File.ReadAllBytes(Written(version: version));
        ulong manifestLength = BinaryPrimitives.ReadUInt64LittleEndian(good.AsSpan(24));
        var rng = new Random(11);
        for (int offset = 64; offset < 64 + (int)manifestLength; offset++)
        {
            foreach (byte value in new byte[] { 0x00, 0xFF, (byte)rng.Next(256), (byte)(good[offset] + 1) })
            {
                var bad = (byte[])good.Clone();
                bad[offset] = value;
                BinaryPrimitives.WriteUInt64LittleEndian(bad.AsSpan(56), EnetHeader.ChecksumOf(bad));
                var ex = LoadBytes(bad);
                Assert.True(ex is null or ModelFormatException or InvalidModelException,
                    $"offset {offset} = 0x{value:X2}: {ex?.GetType().Name}: {ex?.Message}\n{ex?.StackTrace}");
            }
        }
    }

    private int _n;

    private Exception? LoadBytes(byte[] bytes)
    {
        string path = Path.Combine(_dir, $"case{_n++}.enet");
        File.WriteAllBytes(path, bytes);
        try
        {
            return Record.Exception(() => EnetReader.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---------------------------------------------------------------- atomic writes

    private string[] StrayFiles() => Directory.GetFiles(_dir).Where(f => !f.EndsWith("model.enet", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void WriteLeavesNoTemporaryFiles()
    {
        Written();
        Written(Sample(scale: 2));
        Assert.Empty(StrayFiles());
    }

    [Fact]
    public void FailedWriteLeavesTheOldFileIntact()
    {
        string path = Written();
        var before = File.ReadAllBytes(path);
        var broken = Sample(scale: 3);
        broken.Graph.Nodes[0].Name = null!; // protobuf refuses null strings: the writer fails half-way through
        Assert.ThrowsAny<ArgumentException>(() => EnetWriter.Write(broken, path));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Empty(StrayFiles());
        AssertSameOutputs(Sample(), EnetReader.Load(path));
    }

    [Fact]
    public void FailedRenameRemovesTheTemporaryFile()
    {
        string target = Path.Combine(_dir, "model.enet");
        Directory.CreateDirectory(Path.Combine(target, "occupied")); // a non-empty directory cannot be replaced by a file
        Assert.ThrowsAny<IOException>(() => EnetWriter.Write(Sample(), target));
        Assert.Empty(StrayFiles());
        Assert.True(Directory.Exists(Path.Combine(target, "occupied")));
    }

    /// <summary>Replacing a model on disk does not disturb a process that has the old one loaded (mapped).</summary>
    [Fact]
    public void OverwritingDoesNotChangeALoadedModel()
    {
        string path = Written();
        var loaded = EnetReader.Load(path);
        EnetWriter.Write(Sample(scale: 5), path);
        AssertSameOutputs(Sample(), loaded);
        AssertSameOutputs(Sample(scale: 5), EnetReader.Load(path));
    }
}
