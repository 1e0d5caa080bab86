namespace EdgeNet.Devices.Gpio;

/// <summary>A digital output pin: an LED, a relay, a buzzer. Disposing drives it low (off) and releases it.</summary>
public interface IDigitalOutput : IDisposable
{
    /// <summary>The pin number (BCM/logical numbering on a Raspberry Pi: GPIO17 is 17, header pin 11).</summary>
    int Pin { get; }

    /// <summary>The level last written (true = high).</summary>
    bool Value { get; }

    void Write(bool high);
}

/// <summary>A digital input pin: a button, a PIR sensor, a reed switch.</summary>
public interface IDigitalInput : IDisposable
{
    int Pin { get; }

    /// <summary>The current level (true = high, or true = pressed for an active-low input).</summary>
    bool Read();
}

/// <summary>Pull resistor for an input pin.</summary>
public enum InputBias
{
    None,
    PullUp,
    PullDown,
}

/// <summary>One recorded level change of a pin stand-in.</summary>
public readonly record struct PinTransition(TimeSpan Time, bool Value);
