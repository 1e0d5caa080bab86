namespace EdgeNet.Format;

/// <summary>CRC-64/XZ (reflected polynomial 0xC96C5795D7870F42, init and xor-out all ones), table driven.</summary>
public static class Crc64
{
    private static readonly ulong[] s_table = BuildTable();

    private static ulong[] BuildTable()
    {
        var table = new ulong[256];
        for (ulong i = 0; i < 256; i++)
        {
            ulong c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0xC96C5795D7870F42UL : c >> 1;
            table[i] = c;
        }
        return table;
    }

    /// <summary>Continues a CRC over more bytes: start with <c>Begin</c>, finish with <c>End</c>.</summary>
    public static ulong Update(ulong crc, ReadOnlySpan<byte> data)
    {
        var table = s_table;
        foreach (byte b in data) crc = table[(byte)(crc ^ b)] ^ (crc >> 8);
        return crc;
    }

    public const ulong Begin = ulong.MaxValue;
    public static ulong End(ulong crc) => crc ^ ulong.MaxValue;

    public static ulong Compute(ReadOnlySpan<byte> data) => End(Update(Begin, data));
}
