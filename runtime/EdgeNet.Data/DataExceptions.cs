namespace EdgeNet.Data;

/// <summary>A data folder that cannot be used as a labelled set: missing, empty, no class folders, mixed images and audio, unknown class.</summary>
public sealed class InvalidDatasetException(string message, Exception? inner = null) : EdgeNetException(message, inner);

/// <summary>An image file that cannot be decoded: truncated, corrupt, or not PNG/JPEG/BMP.</summary>
public sealed class ImageFormatException(string message, Exception? inner = null) : EdgeNetException(message, inner);

/// <summary>A WAV file that cannot be used: not RIFF/WAVE, unsupported encoding, truncated.</summary>
public sealed class AudioFormatException(string message, Exception? inner = null) : EdgeNetException(message, inner);
