using System.Buffers.Binary;
using System.IO.Compression;
using EdgeNet.Format;
using EdgeNet.Format.Proto;
using EdgeNet.IR;
using Google.Protobuf;

namespace EdgeNet.Tests.Format;

/// <summary>
/// Version 2 files from a buggy or hostile writer: the checksum is right (recomputed), but the compressed manifest or
/// what it says about the bytes is wrong. Each case must fail with a <see cref="ModelFormatException"/> naming the
/// problem, so each fails if the reader's check for it is removed (the file would load, or fail somewhere else).
/// </summary>
public sealed class EnetV2HostileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgenet-enet2-").FullName;
    private readonly byte[] _good = EnetWriter.Encode(EnetFormatTests.Sample(), 2);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (byte[] Region, byte[] Weights) Sections(byte[] file)
    {
        int manifestLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(24));
        int weightsOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(32));
        return (file.AsSpan(64, manifestLength).ToArray(), file.AsSpan(weightsOffset).ToArray());
    }

    private ModelDef Manifest() => ModelDef.Parser.ParseFrom(EnetV2Reader.Decompress(Sections(_good).Region, "test"));

    /// <summary>The good file with its manifest edited, recompressed, and the header and checksum redone.</summary>
    private byte[] WithManifest(Action<ModelDef> edit)
    {
        var def = Manifest();
        edit(def);
        return EnetWriter.Assemble(2, EnetV2Writer.CompressManifest(def.ToByteArray()), Sections(_good).Weights);
    }

    private byte[] WithRegion(byte[] region) => EnetWriter.Assemble(2, region, Sections(_good).Weights);

    private Exception? Load(byte[] bytes)
    {
        string path = Path.Combine(_dir, $"case{Guid.NewGuid():N}.enet");
        File.WriteAllBytes(path, bytes);
        return Record.Exception(() => EnetReader.Load(path));
    }

    private void AssertFails(byte[] file, params string[] expected)
    {
        var ex = Load(file);
        Assert.True(ex is ModelFormatException, $"{ex?.GetType().Name ?? "no exception"}: {ex?.Message}");
        Assert.True(expected.Any(e => ex!.Message.Contains(e, StringComparison.Ordinal)), $"'{ex!.Message}' should say {string.Join(" or ", expected)}");
    }

    [Fact]
    public void TheUneditedFileLoads()
    {
        Assert.Null(Load(_good));
        Assert.Null(Load(WithManifest(_ => { })));
    }

    /// <summary>A packed float weight of at least 3 elements.</summary>
    private static WeightDef2 Small(ModelDef def, int skip = 0) =>
        def.Graph.Weights.Where(w => w.Packed && w.DataType == (int)DataType.Float32 && w.Dims.Aggregate(1L, (a, b) => a * b) >= 3).Skip(skip).First();

    /// <summary>The two mapped weights of the sample, in file order.</summary>
    private static (WeightDef2 First, WeightDef2 Second) Big(ModelDef def)
    {
        var big = def.Graph.Weights.Where(w => !w.Packed).OrderBy(w => w.Offset).ToList();
        Assert.Equal(2, big.Count);
        return (big[0], big[1]);
    }

    // ---------------------------------------------------------------- the compressed region

    [Fact]
    public void ClaimBeyondTheManifestLimitIsADecompressionBomb()
    {
        var region = Sections(_good).Region;
        BinaryPrimitives.WriteUInt32LittleEndian(region, EnetHeader.MaxManifestBytes + 1u);
        AssertFails(WithRegion(region), "decompression bomb");
    }

    /// <summary>A stream of 16 MiB of zeros (a few hundred bytes compressed) claiming 1000 bytes: stopped at the claim.</summary>
    [Fact]
    public void StreamLargerThanItsClaimIsStopped()
    {
        var zeros = new byte[16 << 20];
        var compressed = new byte[BrotliEncoder.GetMaxCompressedLength(zeros.Length)];
        Assert.True(BrotliEncoder.TryCompress(zeros, compressed, out int n, 1, 22));
        Assert.True(n < 4096, $"{n} bytes");
        var region = new byte[4 + n];
        BinaryPrimitives.WriteUInt32LittleEndian(region, 1000);
        compressed.AsSpan(0, n).CopyTo(region.AsSpan(4));
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertFails(WithRegion(region), "more than the 1000 bytes it claims (decompression bomb)");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the reader allocated as if it decompressed the bomb");
    }

    [Fact]
    public void ClaimedLengthMustMatchExactly()
    {
        var region = Sections(_good).Region;
        uint actual = BinaryPrimitives.ReadUInt32LittleEndian(region);
        BinaryPrimitives.WriteUInt32LittleEndian(region, actual - 1);
        AssertFails(WithRegion(region), $"more than the {actual - 1} bytes it claims");
        BinaryPrimitives.WriteUInt32LittleEndian(region, actual + 1);
        AssertFails(WithRegion(region), $"decompresses to {actual} bytes, it claims {actual + 1}");
    }

    [Fact]
    public void CutOffCorruptOrTrailingStreamsAreNamed()
    {
        var region = Sections(_good).Region;
        AssertFails(WithRegion(region[..^3]), "cut short");
        AssertFails(WithRegion([.. region, 1, 2, 3]), "follow the compressed manifest");
        AssertFails(WithRegion([1, 2]), "too short for its length field");
        var garbage = (byte[])region.Clone();
        new Random(4).NextBytes(garbage.AsSpan(4));
        AssertFails(WithRegion(garbage), "corrupt", "cut short", "does not parse", "claims", "bytes follow");
    }

    // ---------------------------------------------------------------- the manifest

    [Fact]
    public void ManifestFieldsAreChecked()
    {
        AssertFails(WithManifest(d => d.Graph = null), "has no graph");
        AssertFails(WithManifest(d => d.FormatVersion = 3), "the manifest says format version 3, the header 2");
        AssertFails(WithManifest(d => d.Strings[0] = "x"), "does not start with the empty string");
        AssertFails(WithManifest(d => d.Graph.Nodes[0].OpType = (uint)d.Strings.Count), "is out of range");
        AssertFails(WithManifest(d => d.Graph.Nodes[^1].Inputs[0] = 1u << 30), $"string index {1u << 30} is out of range");
        AssertFails(WithManifest(d => d.OpsetVersions.Add(7)), "opset domains");
        AssertFails(WithManifest(d => d.Metadata.Add(0)), "a key without a value");
        AssertFails(WithManifest(d => d.Graph.Inputs[0].Symbols.Add(0)), "dim names");
    }

    [Fact]
    public void WeightsOutsideTheirRegionAreRejected()
    {
        AssertFails(WithManifest(d => Big(d).Second.Offset = 64 * 64), "lies outside the 2496-byte weights section");
        AssertFails(WithManifest(d => Big(d).First.Offset = ulong.MaxValue - 63), "lies outside");
        AssertFails(WithManifest(d => Small(d).Offset = (ulong)d.Packed.Length), "packed bytes");
        // a small weight pointed into the mapped section (packed flag cleared) past its end
        AssertFails(WithManifest(d => { var w = Small(d); w.Packed = false; w.Offset = 2494; }), "lies outside the 2496-byte weights section");
    }

    [Fact]
    public void MisalignedWeightsAreRejected()
    {
        AssertFails(WithManifest(d => Big(d).First.Offset = 4), "is misaligned: it must start at a multiple of 64");
        // a float weight in the packed bytes at an odd offset
        AssertFails(WithManifest(d => Small(d).Offset += 2), "is misaligned: it must start at a multiple of 4");
    }

    [Fact]
    public void OverlappingWeightsAreRejectedButSharedOnesAreNot()
    {
        // the first big weight (1200 bytes) moved to start 64 bytes before the second ends inside it
        AssertFails(WithManifest(d => { var (first, second) = Big(d); first.Offset = second.Offset - 64; }), "overlap");
        // two small float weights: one starts 4 bytes into the other
        AssertFails(WithManifest(d => Small(d, 1).Offset = Small(d).Offset + 4), "overlap");
        // equal tensors share one run (whole): allowed
        Assert.Null(Load(WithManifest(d => { var (first, second) = Big(d); second.Offset = first.Offset; second.Dims.Clear(); second.Dims.Add(first.Dims); })));
    }

    [Fact]
    public void PackedGroupsMustCoverThePackedBytes()
    {
        AssertFails(WithManifest(d => d.PackedGroups.Add(4)), "an element size without a length");
        AssertFails(WithManifest(d => d.PackedGroups[0] = 3), "does not fit");
        AssertFails(WithManifest(d => d.PackedGroups[1] += 4), "does not fit");
        AssertFails(WithManifest(d => d.PackedGroups[^1] -= d.PackedGroups[^2]), "cover");
    }

    /// <summary>
    /// Random edits of the uncompressed manifest (recompressed, so they reach the parser and the graph builder): every
    /// outcome is a load or an EdgeNet error, never an IndexOutOfRange, NullReference or the like.
    /// </summary>
    [Fact]
    public void RandomManifestEditsFailCleanly()
    {
        var raw = EnetV2Reader.Decompress(Sections(_good).Region, "test");
        var weights = Sections(_good).Weights;
        var rng = new Random(17);
        int failures = 0;
        for (int trial = 0; trial < 600; trial++)
        {
            var bad = (byte[])raw.Clone();
            int edits = 1 + rng.Next(3);
            for (int e = 0; e < edits; e++) bad[rng.Next(bad.Length)] = rng.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)rng.Next(256) };
            var ex = Load(EnetWriter.Assemble(2, EnetV2Writer.CompressManifest(bad), weights));
            Assert.True(ex is null or ModelFormatException or InvalidModelException, $"trial {trial}: {ex?.GetType().Name}: {ex?.Message}\n{ex?.StackTrace}");
            if (ex is not null) failures++;
        }
        Assert.True(failures > 100, $"only {failures} of 600 edits were caught");
    }
}
