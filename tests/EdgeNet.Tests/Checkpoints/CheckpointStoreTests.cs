using EdgeNet.IR;
using EdgeNet.Training.Checkpoints;

namespace EdgeNet.Tests.Checkpoints;

public class CheckpointStoreTests
{
    internal static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), $"edgenet-ckpt-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>A small checkpoint whose content depends on <paramref name="n"/>.</summary>
    internal static Checkpoint Small(long n)
    {
        var g = new Graph { Name = "small" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = [Dim.Known(1), Dim.Known(4)];
        g.Inputs.Add(x);
        var w = g.AddConstant("w", Tensor.FromArray([4, 3], Enumerable.Range(0, 12).Select(i => n + i * 0.5f).ToArray()));
        var node = new Node { OpType = "MatMul", Name = "mm", OpsetVersion = 13 };
        node.Inputs.Add(x);
        node.Inputs.Add(w);
        var y = g.GetOrAddValue("y");
        y.DataType = DataType.Float32;
        y.Shape = [Dim.Known(1), Dim.Known(3)];
        node.Outputs.Add(y);
        y.Producer = node;
        g.Nodes.Add(node);
        g.Outputs.Add(y);
        var model = new Model { Graph = g };
        model.Opsets[""] = 13;
        var c = Checkpoint.FromModel(model);
        c.Tensors["w.momentum"] = new NamedTensor([4, 3], Enumerable.Range(0, 12).Select(i => -n - i).Select(v => (float)v).ToArray());
        c.Tensors["scalar"] = new NamedTensor([], [n * 2f]);
        c.Metadata["epoch"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        c.Metadata["note"] = "café ✓";
        return c;
    }

    internal static void AssertIsSmall(Checkpoint c, long n)
    {
        Assert.Equal(n, c.GetLong("epoch"));
        Assert.Equal("café ✓", c.Metadata["note"]);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)(-n - i)), c.Tensors["w.momentum"].Data);
        Assert.Equal([4, 3], c.Tensors["w.momentum"].Dims);
        Assert.Equal([n * 2f], c.Tensors["scalar"].Data);
        Assert.Empty(c.Tensors["scalar"].Dims);
        var model = c.LoadModel();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => n + i * 0.5f), model.Graph.Values["w"].Constant!.ToFloatArray());
    }

    [Fact]
    public void SaveAndLoadRoundTripAndKeepOnlyTheNewestTwo()
    {
        var store = new CheckpointStore(TempDir());
        Assert.Null(store.TryLoadLatest());
        Assert.Throws<CheckpointException>(() => store.LoadLatest());
        for (int n = 1; n <= 4; n++) store.Save(Small(n));
        Assert.Equal([4L, 3L], store.List().Select(f => f.Sequence));
        var r = store.LoadLatest();
        Assert.False(r.FellBack);
        Assert.Equal(4, r.Checkpoint.Sequence);
        AssertIsSmall(r.Checkpoint, 4);
    }

    [Fact]
    public void ACorruptNewestFileFallsBackToThePreviousAndSaysSo()
    {
        var store = new CheckpointStore(TempDir());
        store.Save(Small(1));
        string newest = store.Save(Small(2));
        var bytes = File.ReadAllBytes(newest);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(newest, bytes);
        var r = store.LoadLatest();
        Assert.True(r.FellBack);
        Assert.Equal(newest, Assert.Single(r.Rejected).Path);
        Assert.Contains("checksum", r.Rejected[0].Reason);
        AssertIsSmall(r.Checkpoint, 1);

        // The next save takes a new number, and pruning keeps the good old one rather than the corrupt newer one.
        store.Save(Small(3));
        Assert.Equal([3L, 1L], store.List().Select(f => f.Sequence));
        File.WriteAllBytes(store.List()[0].Path, File.ReadAllBytes(store.List()[0].Path)[..100]); // torn
        var r2 = store.LoadLatest();
        AssertIsSmall(r2.Checkpoint, 1);
        Assert.Contains("truncated", r2.Rejected[0].Reason);
    }

    [Fact]
    public void NothingUsableIsACheckpointExceptionAndTempFilesAreIgnoredThenCleaned()
    {
        string dir = TempDir();
        var store = new CheckpointStore(dir);
        File.WriteAllText(Path.Combine(dir, "ckpt-0000000007.enckpt"), "garbage");
        var e = Assert.Throws<CheckpointException>(() => store.LoadLatest());
        Assert.Contains("no usable checkpoint", e.Message);

        string temp = Path.Combine(dir, "ckpt-0000000008.enckpt" + DurableFile.TempMarker + "123-abc");
        File.WriteAllBytes(temp, [1, 2, 3]);
        store.Save(Small(9));
        Assert.Equal(8, store.LoadLatest().Checkpoint.Sequence); // after the garbage file's 7
        Assert.False(File.Exists(temp));
        Assert.False(File.Exists(Path.Combine(dir, "ckpt-0000000007.enckpt")));
    }

    [Fact]
    public void DurableWriteReplacesAtomically()
    {
        string dir = TempDir(), path = Path.Combine(dir, "f.bin");
        DurableFile.Write(path, [1, 2, 3]);
        DurableFile.Write(path, [4, 5]);
        Assert.Equal([4, 5], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir));
        DurableFile.SyncDirectory(dir);
        Assert.Throws<IOException>(() => DurableFile.SyncDirectory(Path.Combine(dir, "missing")));
    }
}
