using EdgeNet.Onnx.Proto;

namespace EdgeNet.Onnx;

/// <summary>Reads a tensor stored in a file beside the model (data_location = EXTERNAL), confined to the model's folder.</summary>
internal static class ExternalData
{
    public static byte[] Read(TensorProto proto, string name, long expectedBytes, string? baseDirectory)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseLong(entry.Value, name, "offset"); break;
                case "length": length = ParseLong(entry.Value, name, "length"); break;
            }
        }
        if (string.IsNullOrEmpty(location)) throw new InvalidModelException($"Tensor '{name}' has external data without a location");
        if (baseDirectory is null) throw new InvalidModelException($"Tensor '{name}' has external data '{location}' but the model was not loaded from a folder");
        string root = Path.GetFullPath(baseDirectory);
        if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
            throw new InvalidModelException($"Tensor '{name}': external data path '{location}' leaves the model's folder");
        string path = Path.GetFullPath(Path.Combine(root, location));
        string rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!path.StartsWith(rootWithSeparator, StringComparison.Ordinal))
            throw new InvalidModelException($"Tensor '{name}': external data path '{location}' leaves the model's folder");
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            string target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, info.LinkTarget));
            if (!target.StartsWith(rootWithSeparator, StringComparison.Ordinal))
                throw new InvalidModelException($"Tensor '{name}': external data '{location}' is a link leaving the model's folder");
        }
        if (!info.Exists) throw new InvalidModelException($"Tensor '{name}': external data file '{location}' does not exist");
        if (length < 0) length = expectedBytes;
        if (length != expectedBytes)
            throw new InvalidModelException($"Tensor '{name}': external data length {length} does not match the {expectedBytes} bytes its dims need");
        if (offset < 0 || offset + length > info.Length)
            throw new InvalidModelException($"Tensor '{name}': external data range {offset}+{length} is outside '{location}' ({info.Length} bytes)");
        var data = new byte[length];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        stream.Seek(offset, SeekOrigin.Begin);
        stream.ReadExactly(data);
        return data;
    }

    private static long ParseLong(string text, string name, string key) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v)
            ? v : throw new InvalidModelException($"Tensor '{name}': external data {key} '{text}' is not a non-negative integer");
}
