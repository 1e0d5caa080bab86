using System.Runtime.InteropServices;

namespace EdgeNet.Devices.Camera;

/// <summary>
/// The parts of linux/videodev2.h the camera uses, laid out as on 64-bit Linux (x86-64 and ARM64). ioctl numbers follow
/// the generic encoding: direction in bits 30-31 (1 write, 2 read, 3 both), argument size in bits 16-29, type 'V' in
/// bits 8-15, number in bits 0-7.
/// </summary>
internal static class V4l2
{
    public static nuint Ioc(uint direction, uint number, int size) => (nuint)((direction << 30) | ((uint)size << 16) | ((uint)'V' << 8) | number);
    private const uint Read = 2, Write = 1, ReadWrite = 3;

    public static readonly nuint QueryCap = Ioc(Read, 0, Marshal.SizeOf<Capability>());
    public static readonly nuint SetFormat = Ioc(ReadWrite, 5, Marshal.SizeOf<Format>());
    public static readonly nuint RequestBuffers = Ioc(ReadWrite, 8, Marshal.SizeOf<RequestBuffersArg>());
    public static readonly nuint QueryBuffer = Ioc(ReadWrite, 9, Marshal.SizeOf<Buffer>());
    public static readonly nuint QueueBuffer = Ioc(ReadWrite, 15, Marshal.SizeOf<Buffer>());
    public static readonly nuint DequeueBuffer = Ioc(ReadWrite, 17, Marshal.SizeOf<Buffer>());
    public static readonly nuint StreamOn = Ioc(Write, 18, sizeof(int));
    public static readonly nuint StreamOff = Ioc(Write, 19, sizeof(int));

    public const uint CapVideoCapture = 0x1, CapStreaming = 0x04000000, CapDeviceCaps = 0x80000000;
    public const uint BufTypeVideoCapture = 1, MemoryMmap = 1, FieldNone = 1;

    /// <summary>The fourcc code of a pixel format: four ASCII characters, first in the low byte.</summary>
    public static uint FourCc(string code) => code[0] | (uint)code[1] << 8 | (uint)code[2] << 16 | (uint)code[3] << 24;
    public static string FourCcName(uint code) => new([(char)(code & 0xFF), (char)(code >> 8 & 0xFF), (char)(code >> 16 & 0xFF), (char)(code >> 24 & 0xFF)]);
    public static readonly uint PixYuyv = FourCc("YUYV");

    /// <summary>struct v4l2_capability (104 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct Capability
    {
        public fixed byte Driver[16];
        public fixed byte Card[32];
        public fixed byte BusInfo[32];
        public uint Version;
        public uint Capabilities;
        public uint DeviceCaps;
        public fixed uint Reserved[3];
    }

    /// <summary>struct v4l2_pix_format (48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PixFormat
    {
        public uint Width, Height, PixelFormat, Field, BytesPerLine, SizeImage, ColorSpace, Priv, Flags, YcbcrEncoding, Quantization, TransferFunction;
    }

    /// <summary>struct v4l2_format (208 bytes on 64-bit: the union holds pointers, so it starts at offset 8).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 208)]
    public struct Format
    {
        [FieldOffset(0)] public uint Type;
        [FieldOffset(8)] public PixFormat Pix;
    }

    /// <summary>struct v4l2_requestbuffers (20 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RequestBuffersArg
    {
        public uint Count, Type, Memory, Capabilities;
        public byte Flags, Reserved0, Reserved1, Reserved2;
    }

    /// <summary>struct v4l2_buffer (88 bytes on 64-bit: 16-byte timeval at 24, 8-byte union m at 64).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 88)]
    public struct Buffer
    {
        [FieldOffset(0)] public uint Index;
        [FieldOffset(4)] public uint Type;
        [FieldOffset(8)] public uint BytesUsed;
        [FieldOffset(12)] public uint Flags;
        [FieldOffset(16)] public uint Field;
        [FieldOffset(24)] public long TimestampSeconds;
        [FieldOffset(32)] public long TimestampMicroseconds;
        [FieldOffset(56)] public uint Sequence;
        [FieldOffset(60)] public uint Memory;
        [FieldOffset(64)] public uint Offset;
        [FieldOffset(72)] public uint Length;
    }
}
