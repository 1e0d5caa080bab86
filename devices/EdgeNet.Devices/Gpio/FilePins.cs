using System.Globalization;

namespace EdgeNet.Devices.Gpio;

/// <summary>
/// An output-pin stand-in that records every level change, with its time, to a text file (and to
/// <see cref="Transitions"/>): a header line starting with '#', then one line per change, "SECONDS LEVEL", seconds since
/// the pin was opened by <see cref="TimeProvider"/> (the system clock, or a stream clock such as audio time) with six
/// decimals, level 1 or 0. Writing the level the pin already has records nothing; disposing drives it low like
/// <see cref="GpioDigitalOutput"/>.
/// </summary>
public sealed class FileDigitalOutput : IDigitalOutput
{
    private readonly StreamWriter _writer;
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly List<PinTransition> _transitions = [];
    private bool _disposed;

    public FileDigitalOutput(string path, int pin, TimeProvider? time = null)
    {
        Pin = pin;
        Path = path;
        _time = time ?? TimeProvider.System;
        _start = _time.GetTimestamp();
        try
        {
            _writer = new StreamWriter(path, append: false) { AutoFlush = true, NewLine = "\n" };
            _writer.WriteLine($"# edgenet gpio output stand-in: pin {pin}; seconds since open, level");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DeviceException($"GPIO stand-in for pin {pin} cannot write {path}: {e.Message}", e);
        }
    }

    public int Pin { get; }
    public string Path { get; }
    public bool Value { get; private set; }

    /// <summary>The changes recorded so far.</summary>
    public IReadOnlyList<PinTransition> Transitions => _transitions;

    public void Write(bool high)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (high == Value) return;
        Value = high;
        var at = _time.GetElapsedTime(_start);
        _transitions.Add(new PinTransition(at, high));
        try
        {
            _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{at.TotalSeconds:F6} {(high ? 1 : 0)}"));
        }
        catch (IOException e)
        {
            throw new DeviceException($"GPIO stand-in for pin {Pin}: writing {Path} failed: {e.Message}", e);
        }
    }

    /// <summary>Reads a file written by this class (or a script for <see cref="FileDigitalInput"/>).</summary>
    public static List<PinTransition> ReadLog(string path) => FileDigitalInput.ParseScript(path);

    public void Dispose()
    {
        if (_disposed) return;
        try { Write(false); }
        catch (DeviceException) { /* the file went away: nothing left to record */ }
        _disposed = true;
        _writer.Dispose();
    }
}

/// <summary>
/// An input-pin stand-in that plays a script: a text file of "SECONDS LEVEL" lines (seconds since the pin was opened,
/// ascending; level 1/0, high/low or pressed/released), '#' starting a comment. <see cref="Read"/> returns the level of
/// the last line whose time has come by <see cref="TimeProvider"/> (low before the first).
/// </summary>
public sealed class FileDigitalInput : IDigitalInput
{
    private readonly List<PinTransition> _script;
    private readonly TimeProvider _time;
    private readonly long _start;

    public FileDigitalInput(string path, int pin, TimeProvider? time = null)
    {
        Pin = pin;
        _script = ParseScript(path);
        _time = time ?? TimeProvider.System;
        _start = _time.GetTimestamp();
    }

    public int Pin { get; }

    /// <summary>The scripted changes.</summary>
    public IReadOnlyList<PinTransition> Script => _script;

    public bool Read()
    {
        var now = _time.GetElapsedTime(_start);
        bool level = false;
        foreach (var step in _script)
        {
            if (step.Time > now) break;
            level = step.Value;
        }
        return level;
    }

    internal static List<PinTransition> ParseScript(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DeviceException($"GPIO stand-in cannot read {path}: {e.Message}", e);
        }
        var steps = new List<PinTransition>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0) line = line[..hash];
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
                || !double.IsFinite(seconds) || seconds < 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
                throw new DeviceException($"{path}:{i + 1}: expected 'SECONDS LEVEL', got '{lines[i].Trim()}'");
            bool value = parts[1].ToLowerInvariant() switch
            {
                "1" or "high" or "pressed" or "on" => true,
                "0" or "low" or "released" or "off" => false,
                _ => throw new DeviceException($"{path}:{i + 1}: level '{parts[1]}' is not 1/0, high/low or pressed/released"),
            };
            var at = TimeSpan.FromSeconds(seconds);
            if (steps.Count > 0 && at < steps[^1].Time) throw new DeviceException($"{path}:{i + 1}: times must not go backwards");
            steps.Add(new PinTransition(at, value));
        }
        return steps;
    }

    public void Dispose() { }
}
