namespace EdgeNet.Data;

/// <summary>Turns a decoded image into a CHW tensor: channel conversion, bilinear resize, normalization.</summary>
public static class ImageTransform
{
    /// <summary>
    /// Writes <paramref name="image"/> into <paramref name="chw"/> as <c>spec.Channels × spec.Height × spec.Width</c>
    /// floats in [0,1] (no normalization yet). Resizing is bilinear with half-pixel centres (source coordinate
    /// <c>(x + 0.5)·W/w − 0.5</c>, clamped at the borders; the same as ONNX Resize linear/half_pixel and OpenCV
    /// INTER_LINEAR) and without antialiasing: shrink large photos in steps or beforehand if aliasing matters.
    /// A grey image fills every channel; an RGB image into one channel becomes luminance 0.299 R + 0.587 G + 0.114 B.
    /// </summary>
    public static void ToUnitTensor(DecodedImage image, ImageSpec spec, Span<float> chw)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        int h = spec.Height, w = spec.Width, plane = h * w;
        if (chw.Length < spec.Length) throw new ArgumentException($"destination holds {chw.Length} floats, the image needs {spec.Length}", nameof(chw));
        int srcW = image.Width, srcH = image.Height, sc = image.Channels;
        var src = image.Pixels;
        float scaleY = (float)srcH / h, scaleX = (float)srcW / w;
        Span<float> pixel = stackalloc float[3];
        for (int y = 0; y < h; y++)
        {
            float fy = Math.Clamp((y + 0.5f) * scaleY - 0.5f, 0f, srcH - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, srcH - 1);
            float dy = fy - y0;
            for (int x = 0; x < w; x++)
            {
                float fx = Math.Clamp((x + 0.5f) * scaleX - 0.5f, 0f, srcW - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, srcW - 1);
                float dx = fx - x0;
                for (int c = 0; c < sc; c++)
                {
                    float p00 = src[(y0 * srcW + x0) * sc + c], p01 = src[(y0 * srcW + x1) * sc + c];
                    float p10 = src[(y1 * srcW + x0) * sc + c], p11 = src[(y1 * srcW + x1) * sc + c];
                    float top = p00 + (p01 - p00) * dx, bottom = p10 + (p11 - p10) * dx;
                    pixel[c] = top + (bottom - top) * dy;
                }
                int at = y * w + x;
                if (spec.Channels == 1)
                    chw[at] = sc == 1 ? pixel[0] : 0.299f * pixel[0] + 0.587f * pixel[1] + 0.114f * pixel[2];
                else
                    for (int c = 0; c < 3; c++) chw[c * plane + at] = pixel[sc == 1 ? 0 : c];
            }
        }
    }

    /// <summary>In place: <c>p ← (p − mean) / std</c>.</summary>
    public static void Normalize(Span<float> values, float mean, float std)
    {
        float inv = 1f / std;
        for (int i = 0; i < values.Length; i++) values[i] = (values[i] - mean) * inv;
    }

    /// <summary>
    /// Bilinear resize of one CHW tensor to another size (half-pixel centres, clamped borders), used by the crop
    /// augmentation; <paramref name="crop"/> selects the source rectangle (top, left, height, width) in pixels.
    /// </summary>
    public static void ResizePlanes(ReadOnlySpan<float> src, int channels, int srcH, int srcW, (float Top, float Left, float Height, float Width) crop,
        Span<float> dst, int dstH, int dstW)
    {
        float scaleY = crop.Height / dstH, scaleX = crop.Width / dstW;
        for (int c = 0; c < channels; c++)
        {
            var s = src.Slice(c * srcH * srcW, srcH * srcW);
            var d = dst.Slice(c * dstH * dstW, dstH * dstW);
            for (int y = 0; y < dstH; y++)
            {
                float fy = Math.Clamp(crop.Top + (y + 0.5f) * scaleY - 0.5f, 0f, srcH - 1);
                int y0 = (int)fy, y1 = Math.Min(y0 + 1, srcH - 1);
                float dy = fy - y0;
                for (int x = 0; x < dstW; x++)
                {
                    float fx = Math.Clamp(crop.Left + (x + 0.5f) * scaleX - 0.5f, 0f, srcW - 1);
                    int x0 = (int)fx, x1 = Math.Min(x0 + 1, srcW - 1);
                    float dx = fx - x0;
                    float top = s[y0 * srcW + x0] + (s[y0 * srcW + x1] - s[y0 * srcW + x0]) * dx;
                    float bottom = s[y1 * srcW + x0] + (s[y1 * srcW + x1] - s[y1 * srcW + x0]) * dx;
                    d[y * dstW + x] = top + (bottom - top) * dy;
                }
            }
        }
    }
}
