using System.Device.Gpio;
using System.Device.Gpio.Drivers;

namespace EdgeNet.Devices.Gpio;

/// <summary>
/// Opens GPIO controllers through System.Device.Gpio (libgpiod on the /dev/gpiochipN character devices, sysfs as the
/// library's fallback), turning "no GPIO on this machine" and the library's exceptions into <see cref="DeviceException"/>.
/// </summary>
internal static class GpioAccess
{
    /// <summary>True when the machine exposes a GPIO chip (character device or sysfs).</summary>
    public static bool MachineHasGpio => (Directory.Exists("/dev") && Directory.GetFiles("/dev", "gpiochip*").Length > 0) || Directory.Exists("/sys/class/gpio");

    public static GpioController OpenController(int? chip, int pin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pin);
        if (!OperatingSystem.IsLinux()) throw new DeviceException($"GPIO pin {pin}: GPIO needs Linux (a Raspberry Pi); use the file stand-in elsewhere");
        if (chip is null && !MachineHasGpio)
            throw new DeviceException($"GPIO pin {pin}: this machine has no GPIO chip (no /dev/gpiochip*, no /sys/class/gpio): run on a Raspberry Pi or use the file stand-in (--gpio-file)");
        if (chip is int n && !File.Exists($"/dev/gpiochip{n}"))
            throw new DeviceException($"GPIO pin {pin}: /dev/gpiochip{n} does not exist (ls /dev/gpiochip* lists the chips; a Pi 5 with an older kernel has its header on gpiochip4)");
        try
        {
            return chip is int c ? new GpioController(new LibGpiodDriver(c)) : new GpioController();
        }
        catch (Exception e) when (e is not DeviceException)
        {
            throw Wrap(e, pin, "opening the GPIO controller");
        }
    }

    public static DeviceException Wrap(Exception e, int pin, string what) => new(
        $"GPIO pin {pin}: {what} failed: {e.Message}" + (e is UnauthorizedAccessException ? " (add the user to the 'gpio' group)" : ""), e);
}

/// <summary>A GPIO output pin through System.Device.Gpio's <see cref="GpioController"/>.</summary>
public sealed class GpioDigitalOutput : IDigitalOutput
{
    private GpioController? _controller;
    private readonly bool _ownsController;

    /// <param name="pin">Logical (BCM) pin number.</param>
    /// <param name="chip">gpiochip number to use (null: the library's choice for the board).</param>
    /// <param name="initial">Level to start at.</param>
    public GpioDigitalOutput(int pin, int? chip = null, bool initial = false)
        : this(pin, GpioAccess.OpenController(chip, pin), ownsController: true, initial) { }

    /// <summary>A pin on a controller the caller owns (several pins on one controller).</summary>
    public GpioDigitalOutput(int pin, GpioController controller, bool ownsController = false, bool initial = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pin);
        Pin = pin;
        _controller = controller;
        _ownsController = ownsController;
        try
        {
            controller.OpenPin(pin, PinMode.Output, initial ? PinValue.High : PinValue.Low);
            Value = initial;
        }
        catch (Exception e)
        {
            if (ownsController) controller.Dispose();
            _controller = null;
            throw GpioAccess.Wrap(e, pin, "opening it as an output");
        }
    }

    public int Pin { get; }
    public bool Value { get; private set; }

    public void Write(bool high)
    {
        var controller = _controller ?? throw new ObjectDisposedException(nameof(GpioDigitalOutput));
        try { controller.Write(Pin, high ? PinValue.High : PinValue.Low); }
        catch (Exception e) { throw GpioAccess.Wrap(e, Pin, "writing"); }
        Value = high;
    }

    public void Dispose()
    {
        var controller = _controller;
        if (controller is null) return;
        _controller = null;
        try
        {
            controller.Write(Pin, PinValue.Low);
            controller.ClosePin(Pin);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException) { /* releasing: nothing more to do */ }
        finally
        {
            if (_ownsController) controller.Dispose();
        }
    }
}

/// <summary>A GPIO input pin through System.Device.Gpio's <see cref="GpioController"/>.</summary>
public sealed class GpioDigitalInput : IDigitalInput
{
    private GpioController? _controller;
    private readonly bool _ownsController, _activeLow;

    /// <param name="pin">Logical (BCM) pin number.</param>
    /// <param name="bias">Pull resistor (a button to ground wants <see cref="InputBias.PullUp"/> and activeLow).</param>
    /// <param name="activeLow">Read() returns true when the pin is low (a pressed button to ground).</param>
    /// <param name="chip">gpiochip number to use (null: the library's choice for the board).</param>
    public GpioDigitalInput(int pin, InputBias bias = InputBias.None, bool activeLow = false, int? chip = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pin);
        Pin = pin;
        _activeLow = activeLow;
        _ownsController = true;
        var controller = GpioAccess.OpenController(chip, pin);
        try
        {
            controller.OpenPin(pin, bias switch { InputBias.PullUp => PinMode.InputPullUp, InputBias.PullDown => PinMode.InputPullDown, _ => PinMode.Input });
        }
        catch (Exception e)
        {
            controller.Dispose();
            throw GpioAccess.Wrap(e, pin, "opening it as an input");
        }
        _controller = controller;
    }

    public int Pin { get; }

    public bool Read()
    {
        var controller = _controller ?? throw new ObjectDisposedException(nameof(GpioDigitalInput));
        try { return (controller.Read(Pin) == PinValue.High) != _activeLow; }
        catch (Exception e) { throw GpioAccess.Wrap(e, Pin, "reading"); }
    }

    public void Dispose()
    {
        var controller = _controller;
        if (controller is null) return;
        _controller = null;
        try { controller.ClosePin(Pin); }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException) { /* releasing */ }
        finally
        {
            if (_ownsController) controller.Dispose();
        }
    }
}
