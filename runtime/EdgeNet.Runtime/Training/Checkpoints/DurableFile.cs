using System.Runtime.InteropServices;

namespace EdgeNet.Training.Checkpoints;

/// <summary>
/// Writes a file so that a crash or power cut at any moment leaves either the old state or the new one:
/// write a temporary file beside the target, flush it to the device (fsync), rename it over the target (atomic on
/// POSIX file systems), then fsync the folder so the rename itself is on the device.
/// </summary>
public static partial class DurableFile
{
    /// <summary>Suffix of temporary files; a file with it is a write that never finished and can be deleted.</summary>
    public const string TempMarker = ".tmp-";

    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        string temp = $"{full}{TempMarker}{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the original error matters more
            throw;
        }
        SyncDirectory(Path.GetDirectoryName(full)!);
    }

    /// <summary>Flushes a folder's entries (new names, renames, deletions) to the device. A no-op where the OS has no such call (Windows).</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"cannot open folder '{directory}' to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of folder '{directory}' failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
