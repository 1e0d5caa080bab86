using EdgeNet.IR;
using EdgeNet.Onnx.Proto;
using Google.Protobuf;

namespace EdgeNet.Onnx;

/// <summary>Tensor files the CLI and tests exchange: ONNX TensorProto (.pb) and NumPy (.npy).</summary>
public static class TensorFiles
{
    /// <summary>Reads a .pb (TensorProto) or .npy file, chosen by extension.</summary>
    public static Tensor Read(string path) =>
        Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase) ? Npy.Read(path) : ReadPb(path).Tensor;

    public static (string Name, Tensor Tensor) ReadPb(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read tensor file '{path}': {e.Message}", e);
        }
        var proto = OnnxFormatGuard.Parse(() => TensorProto.Parser.ParseFrom(bytes), $"Tensor file '{Path.GetFileName(path)}'");
        return (proto.Name, TensorProtoConverter.FromProto(proto, Path.GetDirectoryName(Path.GetFullPath(path))));
    }

    public static void WritePb(string path, string name, Tensor tensor) =>
        File.WriteAllBytes(path, TensorProtoConverter.ToProto(name, tensor).ToByteArray());

    public static void Write(string path, string name, Tensor tensor)
    {
        if (Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase)) Npy.Write(path, tensor);
        else WritePb(path, name, tensor);
    }
}
