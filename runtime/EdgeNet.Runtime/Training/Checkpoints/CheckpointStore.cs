using System.Globalization;

namespace EdgeNet.Training.Checkpoints;

/// <summary>A checkpoint file that was skipped on load, and why.</summary>
public sealed record RejectedCheckpoint(string Path, string Reason);

/// <summary>The checkpoint a load returned, where it came from, and the newer files it skipped.</summary>
public sealed record CheckpointLoadResult(Checkpoint Checkpoint, string Path, IReadOnlyList<RejectedCheckpoint> Rejected)
{
    /// <summary>True when a newer file was torn or corrupt and an older good one was used.</summary>
    public bool FellBack => Rejected.Count > 0;
}

/// <summary>
/// A folder of checkpoints that survives power cuts. Each save writes <c>ckpt-NNNNNNNNNN.enckpt</c> with the next
/// sequence number through <see cref="DurableFile"/> (temp file, fsync, rename, fsync folder), then deletes all but
/// the newest <see cref="Keep"/> files that verify, so the previous good checkpoint is always still there. Loading tries the
/// files newest first and returns the first one whose checksums and structure verify (<see cref="CheckpointFile"/>),
/// reporting every newer file it skipped. One writer per folder at a time.
/// </summary>
public sealed class CheckpointStore
{
    private const string Prefix = "ckpt-";

    public string Directory { get; }

    /// <summary>How many checkpoints to keep (at least 2: the newest and the one before it).</summary>
    public int Keep { get; }

    public CheckpointStore(string directory, int keep = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 2);
        Directory = Path.GetFullPath(directory);
        Keep = keep;
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>Checkpoint files by sequence number, newest first (whatever their state).</summary>
    public IReadOnlyList<(long Sequence, string Path)> List()
    {
        var found = new List<(long, string)>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, Prefix + "*" + CheckpointFile.Extension))
        {
            string stem = Path.GetFileNameWithoutExtension(path)[Prefix.Length..];
            if (long.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out long seq)) found.Add((seq, path));
        }
        found.Sort((a, b) => b.Item1.CompareTo(a.Item1));
        return found;
    }

    /// <summary>Saves <paramref name="checkpoint"/> as the next sequence number and returns its path.</summary>
    public string Save(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var existing = List();
        long sequence = existing.Count == 0 ? 1 : existing[0].Sequence + 1;
        string path = Path.Combine(Directory, $"{Prefix}{sequence:D10}{CheckpointFile.Extension}");
        DurableFile.Write(path, CheckpointFile.Serialize(checkpoint, sequence));
        checkpoint.Sequence = sequence;

        // Only now, with the new file durable, prune: walking newest first, keep files until Keep of them verify
        // (the new one counts), and delete the rest — so a corrupt newer file never pushes out the last good one.
        // Temp files are writes that never finished (one writer per folder).
        bool removed = false;
        int good = 1;
        foreach (var (seq, file) in List())
        {
            if (seq >= sequence) continue;
            if (good < Keep && Verifies(file)) good++;
            else removed |= TryDelete(file);
        }
        foreach (var temp in System.IO.Directory.GetFiles(Directory, Prefix + "*" + DurableFile.TempMarker + "*")) removed |= TryDelete(temp);
        if (removed) DurableFile.SyncDirectory(Directory);
        return path;
    }

    /// <summary>The newest checkpoint that verifies, or null when the folder holds no checkpoint file at all.</summary>
    /// <exception cref="CheckpointException">Checkpoint files exist but none verifies.</exception>
    public CheckpointLoadResult? TryLoadLatest()
    {
        var rejected = new List<RejectedCheckpoint>();
        var files = List();
        foreach (var (sequence, path) in files)
        {
            try
            {
                var c = CheckpointFile.Read(path);
                if (c.Sequence != sequence) throw new CheckpointException($"checkpoint '{Path.GetFileName(path)}' is unusable: it holds sequence {c.Sequence}");
                return new CheckpointLoadResult(c, path, rejected);
            }
            catch (CheckpointException e)
            {
                rejected.Add(new RejectedCheckpoint(path, e.Message));
            }
        }
        if (files.Count == 0) return null;
        throw new CheckpointException($"no usable checkpoint in '{Directory}': " + string.Join("; ", rejected.Select(r => r.Reason)));
    }

    /// <summary>The newest checkpoint that verifies.</summary>
    /// <exception cref="CheckpointException">The folder holds no checkpoint, or none verifies.</exception>
    public CheckpointLoadResult LoadLatest() => TryLoadLatest() ?? throw new CheckpointException($"no checkpoint in '{Directory}'");

    private static bool Verifies(string path)
    {
        try
        {
            CheckpointFile.Read(path);
            return true;
        }
        catch (CheckpointException) { return false; }
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
