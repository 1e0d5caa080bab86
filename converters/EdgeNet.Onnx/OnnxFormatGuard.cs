namespace EdgeNet.Onnx;

/// <summary>Turns whatever a hostile protobuf makes the parser throw into EdgeNet's own exceptions.</summary>
internal static class OnnxFormatGuard
{
    public static T Parse<T>(Func<T> parse, string what)
    {
        try { return parse(); }
        catch (EdgeNetException) { throw; }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or InvalidOperationException
                                   or ArgumentException or IndexOutOfRangeException or OverflowException
                                   or OutOfMemoryException or System.Text.DecoderFallbackException or NullReferenceException
                                   or InsufficientExecutionStackException)
        {
            throw new ModelFormatException($"{what} is not a valid ONNX protobuf: {e.Message}", e);
        }
    }
}
