namespace EdgeNet.Devices;

/// <summary>
/// A device cannot be used: it is missing (no /dev/video0, no sound card, no gpiochip), its native library is not
/// installed (libasound.so.2), permission is denied, it does not offer the format EdgeNet needs, or it failed while
/// streaming. The message names the device and says what to do.
/// </summary>
public sealed class DeviceException(string message, Exception? inner = null) : EdgeNetException(message, inner);

/// <summary>An image file a camera stand-in replays is malformed: bad magic, hostile dimensions, truncated pixels.</summary>
public sealed class ImageFormatException(string message) : EdgeNetException(message);

/// <summary>An audio file a microphone stand-in streams is malformed or uses an encoding EdgeNet does not read.</summary>
public sealed class AudioFormatException(string message) : EdgeNetException(message);
