namespace EdgeNet.Devices.Imaging;

/// <summary>Bilinear resize of RGB24 images with half-pixel centres (sample x' = (x + 0.5) * sw / dw - 0.5, edges clamped).</summary>
public static class RgbResize
{
    public static void Bilinear(ReadOnlySpan<byte> src, int srcWidth, int srcHeight, Span<byte> dst, int dstWidth, int dstHeight)
    {
        if (srcWidth < 1 || srcHeight < 1 || dstWidth < 1 || dstHeight < 1) throw new ArgumentOutOfRangeException(nameof(srcWidth), "image sizes must be positive");
        if (src.Length < srcWidth * srcHeight * 3 || dst.Length < dstWidth * dstHeight * 3) throw new ArgumentException("buffer smaller than the image");
        if (srcWidth == dstWidth && srcHeight == dstHeight) { src[..(srcWidth * srcHeight * 3)].CopyTo(dst); return; }
        float sx = (float)srcWidth / dstWidth, sy = (float)srcHeight / dstHeight;
        for (int y = 0; y < dstHeight; y++)
        {
            float fy = Math.Clamp((y + 0.5f) * sy - 0.5f, 0, srcHeight - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, srcHeight - 1);
            float wy = fy - y0;
            for (int x = 0; x < dstWidth; x++)
            {
                float fx = Math.Clamp((x + 0.5f) * sx - 0.5f, 0, srcWidth - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, srcWidth - 1);
                float wx = fx - x0;
                int a = (y0 * srcWidth + x0) * 3, b = (y0 * srcWidth + x1) * 3, c = (y1 * srcWidth + x0) * 3, d = (y1 * srcWidth + x1) * 3;
                int o = (y * dstWidth + x) * 3;
                for (int ch = 0; ch < 3; ch++)
                {
                    float top = src[a + ch] + (src[b + ch] - src[a + ch]) * wx;
                    float bottom = src[c + ch] + (src[d + ch] - src[c + ch]) * wx;
                    dst[o + ch] = (byte)(top + (bottom - top) * wy + 0.5f);
                }
            }
        }
    }
}
