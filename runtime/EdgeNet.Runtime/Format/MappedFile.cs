using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace EdgeNet.Format;

/// <summary>
/// A whole file mapped copy-on-write: tensors are Memory&lt;byte&gt; slices of it, so weights are paged in lazily and
/// may be updated in memory (training) without touching the file. Lives as long as any slice is referenced.
/// </summary>
internal sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private readonly int _length;

    public MappedFile(string path, long length)
    {
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.CopyOnWrite);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.CopyOnWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + _view.PointerOffset;
        _length = checked((int)length);
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);
    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);
    public override void Unpin() { }

    /// <summary>
    /// Spans over the mapping may be in use anywhere a model's tensors are, so the mapping is never unmapped early:
    /// it is released with the process (models are loaded once per process on a device). No finalizer on purpose
    /// (CA2015: a finalizer could free memory a Span still points to).
    /// </summary>
    protected override void Dispose(bool disposing) { }

    /// <summary>Unmaps the file. Only for a load that failed: no tensor over the mapping has been handed out.</summary>
    public void Release()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
