using System.Globalization;

namespace EdgeNet.Data;

/// <summary>
/// How an image becomes a model input: resized to <see cref="Height"/>×<see cref="Width"/>, pixels scaled to [0,1],
/// then <c>(p − Mean) / Std</c>, laid out CHW with <see cref="Channels"/> planes (1 = luminance, 3 = RGB; a grey
/// image fills all three). This is what the CLI's <c>--image-size HxW --normalize MEAN,STD</c> say.
/// </summary>
public sealed record ImageSpec(int Channels, int Height, int Width, float Mean = 0f, float Std = 1f)
{
    /// <summary>Floats one image takes: Channels × Height × Width.</summary>
    public int Length => Channels * Height * Width;

    /// <summary>Checks the fields; throws <see cref="ArgumentOutOfRangeException"/> for a bad one.</summary>
    public void Validate()
    {
        if (Channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(Channels), Channels, "an image input needs 1 or 3 channels");
        ArgumentOutOfRangeException.ThrowIfLessThan(Height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Width, 1);
        if (!(Std > 0f) || !float.IsFinite(Std)) throw new ArgumentOutOfRangeException(nameof(Std), Std, "std must be a positive finite number");
        if (!float.IsFinite(Mean)) throw new ArgumentOutOfRangeException(nameof(Mean), Mean, "mean must be finite");
    }

    /// <summary>Parses "HxW" (e.g. "48x48", also "48X192"); both positive.</summary>
    public static bool TryParseSize(string text, out int height, out int width)
    {
        height = width = 0;
        int x = text.IndexOfAny(['x', 'X']);
        return x > 0
            && int.TryParse(text.AsSpan(0, x), NumberStyles.None, CultureInfo.InvariantCulture, out height)
            && int.TryParse(text.AsSpan(x + 1), NumberStyles.None, CultureInfo.InvariantCulture, out width)
            && height > 0 && width > 0;
    }

    /// <summary>Parses "MEAN,STD" (e.g. "0.5,0.5"); std must be positive.</summary>
    public static bool TryParseNormalize(string text, out float mean, out float std)
    {
        mean = 0f;
        std = 1f;
        int comma = text.IndexOf(',', StringComparison.Ordinal);
        return comma > 0
            && float.TryParse(text.AsSpan(0, comma), NumberStyles.Float, CultureInfo.InvariantCulture, out mean)
            && float.TryParse(text.AsSpan(comma + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out std)
            && float.IsFinite(mean) && std > 0f && float.IsFinite(std);
    }
}
