using EdgeNet.Devices;
using EdgeNet.Devices.Gpio;

namespace EdgeNet.Tests.Devices;

public class GpioTests
{
    [Fact]
    public void FileOutputRecordsOnlyTransitionsWithTheirTimes()
    {
        using var dir = new TempFolder();
        var clock = new ManualClock();
        string path = dir.File("led.txt");
        var led = new FileDigitalOutput(path, 17, clock);
        led.Write(false);                       // already low: nothing
        clock.Now = TimeSpan.FromSeconds(1.25);
        led.Write(true);
        clock.Now = TimeSpan.FromSeconds(1.5);
        led.Write(true);                        // already high: nothing
        clock.Now = TimeSpan.FromSeconds(2);
        led.Write(false);
        clock.Now = TimeSpan.FromSeconds(3.5);
        led.Write(true);
        clock.Now = TimeSpan.FromSeconds(4);
        led.Dispose();                          // drives low
        PinTransition[] expected = [new(TimeSpan.FromSeconds(1.25), true), new(TimeSpan.FromSeconds(2), false), new(TimeSpan.FromSeconds(3.5), true), new(TimeSpan.FromSeconds(4), false)];
        Assert.Equal(expected, led.Transitions);
        Assert.Equal(expected, FileDigitalOutput.ReadLog(path));
        Assert.Equal("# edgenet gpio output stand-in: pin 17; seconds since open, level\n1.250000 1\n2.000000 0\n3.500000 1\n4.000000 0\n", File.ReadAllText(path));
        Assert.Throws<ObjectDisposedException>(() => led.Write(true));
    }

    [Fact]
    public void FileInputPlaysItsScript()
    {
        using var dir = new TempFolder();
        string path = dir.File("button.txt");
        File.WriteAllText(path, "# a button pressed twice\n0.5 pressed\n0.7 released\n\n2 1   # again\n2.25 low\n");
        var clock = new ManualClock();
        using var button = new FileDigitalInput(path, 27, clock);
        (double At, bool Level)[] checks = [(0, false), (0.49, false), (0.5, true), (0.6, true), (0.7, false), (1.9, false), (2.1, true), (2.25, false), (9, false)];
        foreach (var (at, level) in checks)
        {
            clock.Now = TimeSpan.FromSeconds(at);
            Assert.True(level == button.Read(), $"at {at} s");
        }
    }

    [Theory]
    [InlineData("0.5 maybe\n", "line 1", "level 'maybe'")]
    [InlineData("1 1\n0.5 0\n", "line 2", "backwards")]
    [InlineData("1\n", "line 1", "SECONDS LEVEL")]
    [InlineData("-1 1\n", "line 1", "SECONDS LEVEL")]
    [InlineData("1e300 1\n", "line 1", "SECONDS LEVEL")]
    public void BadScriptsNameTheLine(string script, string line, string mentions)
    {
        using var dir = new TempFolder();
        string path = dir.File("s.txt");
        File.WriteAllText(path, script);
        var e = Assert.Throws<DeviceException>(() => new FileDigitalInput(path, 1));
        Assert.Contains(path + ":" + line[5..], e.Message, StringComparison.Ordinal);
        Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
        Assert.Throws<DeviceException>(() => new FileDigitalInput(dir.File("absent.txt"), 1));
    }

    [Fact]
    public void HardwarePinsGiveClearErrorsWithoutAGpioChip()
    {
        var chip = Assert.Throws<DeviceException>(() => new GpioDigitalOutput(17, chip: 99));
        Assert.Contains("/dev/gpiochip99 does not exist", chip.Message, StringComparison.Ordinal);
        Assert.Throws<DeviceException>(() => new GpioDigitalInput(27, InputBias.PullUp, activeLow: true, chip: 99));
        if (!GpioAccess.MachineHasGpio)
        {
            var none = Assert.Throws<DeviceException>(() => new GpioDigitalOutput(17));
            Assert.Contains("no GPIO chip", none.Message, StringComparison.Ordinal);
            Assert.Throws<DeviceException>(() => new GpioDigitalInput(27));
        }
        else Assert.Throws<ArgumentOutOfRangeException>(() => new GpioDigitalOutput(-1));
    }
}
