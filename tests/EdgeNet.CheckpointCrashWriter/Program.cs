// Saves checkpoints in a loop until it is killed; tests/EdgeNet.Tests/Checkpoints/CheckpointKillTests SIGKILLs it at
// random moments and checks what a reload finds.
//   checkpoint-crash-writer DIR atomic   saves through CheckpointStore (the real, power-cut-safe path)
//   checkpoint-crash-writer DIR torn     writes each checkpoint straight over its final name in small pieces, as a
//                                        naive writer would, so kills leave torn files for the loader to reject
// Every checkpoint's content is a function of its sequence number (see Content), so the test can check a loaded one.
// Prints "begin N" before and "saved N" after each save (flushed), so the test knows what was durable.
using EdgeNet.IR;
using EdgeNet.Training.Checkpoints;

if (args.Length != 2 || args[1] is not ("atomic" or "torn"))
{
    Console.Error.WriteLine("usage: checkpoint-crash-writer DIR atomic|torn");
    return 2;
}
var store = new CheckpointStore(args[0]);
Console.Out.Flush();
while (true)
{
    var latest = store.List();
    long next = latest.Count == 0 ? 1 : latest[0].Sequence + 1;
    var checkpoint = Content.Make(next);
    var bytes = args[1] == "torn" ? CheckpointFile.Serialize(checkpoint, next) : null;
    Console.WriteLine($"begin {next}");
    Console.Out.Flush();
    if (bytes is null) store.Save(checkpoint);
    else
    {
        using (var f = new FileStream(Path.Combine(store.Directory, $"ckpt-{next:D10}{CheckpointFile.Extension}"), FileMode.Create, FileAccess.Write, FileShare.None, 1))
        {
            for (int at = 0; at < bytes.Length; at += 4096)
            {
                f.Write(bytes, at, Math.Min(4096, bytes.Length - at));
                f.Flush(); // to the OS, so a kill leaves exactly the pieces written so far
                System.Threading.Thread.Sleep(1); // slow storage (an SD card): widens the window a kill can land in
            }
        }
    }
    Console.WriteLine($"saved {next}");
    Console.Out.Flush();
    if (bytes is not null)
    {
        long good = store.TryLoadLatest()?.Checkpoint.Sequence ?? 0;
        foreach (var (seq, path) in store.List())
            if (seq < good) File.Delete(path); // bound the folder's size, keeping the newest good file
    }
}

/// <summary>The checkpoint for sequence number n: a 128x1024 MatMul weight, a momentum tensor and metadata, all from n.</summary>
internal static class Content
{
    public const int In = 128, Out = 1024, Momentum = 50_000;

    public static float Weight(long n, int i) => n * 1000 + i % 997;
    public static float Moment(long n, int i) => -n - i % 13;

    public static Checkpoint Make(long n)
    {
        var g = new Graph { Name = "crash" };
        var x = g.GetOrAddValue("x");
        x.DataType = DataType.Float32;
        x.Shape = [Dim.Known(1), Dim.Known(In)];
        g.Inputs.Add(x);
        var w = new float[In * Out];
        for (int i = 0; i < w.Length; i++) w[i] = Weight(n, i);
        var wv = g.AddConstant("w", Tensor.FromArray([In, Out], w));
        var node = new Node { OpType = "MatMul", Name = "mm", OpsetVersion = 13 };
        node.Inputs.Add(x);
        node.Inputs.Add(wv);
        var y = g.GetOrAddValue("y");
        y.DataType = DataType.Float32;
        y.Shape = [Dim.Known(1), Dim.Known(Out)];
        node.Outputs.Add(y);
        y.Producer = node;
        g.Nodes.Add(node);
        g.Outputs.Add(y);
        var model = new Model { Graph = g };
        model.Opsets[""] = 13;
        var m = new float[Momentum];
        for (int i = 0; i < m.Length; i++) m[i] = Moment(n, i);
        var c = Checkpoint.FromModel(model);
        c.Tensors["w.momentum"] = new NamedTensor([Momentum], m);
        c.Metadata["step"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        c.Metadata["epoch"] = (n / 10).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return c;
    }
}
