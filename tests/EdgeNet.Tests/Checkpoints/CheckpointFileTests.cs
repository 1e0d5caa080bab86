using EdgeNet.Training.Checkpoints;

namespace EdgeNet.Tests.Checkpoints;

public class CheckpointFileTests
{
    [Fact]
    public void RoundTripKeepsEverything()
    {
        var c = CheckpointStoreTests.Small(5);
        var back = CheckpointFile.Deserialize(CheckpointFile.Serialize(c, 42));
        Assert.Equal(42, back.Sequence);
        Assert.Equal(c.ModelBytes, back.ModelBytes);
        CheckpointStoreTests.AssertIsSmall(back, 5);
    }

    [Fact]
    public void EveryTruncationIsDetected()
    {
        var bytes = CheckpointFile.Serialize(CheckpointStoreTests.Small(3), 1);
        for (int n = 0; n < bytes.Length; n++)
            Assert.Throws<CheckpointException>(() => CheckpointFile.Deserialize(bytes.AsSpan(0, n), $"cut at {n}"));
        // Extra bytes after the trailer (a file that was not truncated when overwritten in place) are rejected too.
        Assert.Throws<CheckpointException>(() => CheckpointFile.Deserialize([.. bytes, 0]));
    }

    [Fact]
    public void EveryByteFlipIsDetected()
    {
        var bytes = CheckpointFile.Serialize(CheckpointStoreTests.Small(3), 1);
        foreach (byte mask in new byte[] { 0x01, 0x80, 0xFF })
            for (int i = 0; i < bytes.Length; i++)
            {
                var bad = (byte[])bytes.Clone();
                bad[i] ^= mask;
                Assert.Throws<CheckpointException>(() => CheckpointFile.Deserialize(bad, $"flip {mask:X2} at {i}"));
            }
    }

    [Fact]
    public void ZeroedPagesAreDetected()
    {
        // What a crash on a file system without ordered writes leaves: the right length, a run of zeros inside.
        var bytes = CheckpointFile.Serialize(CheckpointStoreTests.Small(3), 1);
        for (int start = 0; start < bytes.Length; start += 37)
        {
            var bad = (byte[])bytes.Clone();
            int len = Math.Min(64, bad.Length - start);
            if (bytes.AsSpan(start, len).IndexOfAnyExcept((byte)0) < 0) continue; // already zeros: nothing changes
            bad.AsSpan(start, len).Clear();
            Assert.Throws<CheckpointException>(() => CheckpointFile.Deserialize(bad, $"zeros at {start}"));
        }
    }

    [Fact]
    public void BadTensorsAreRefusedOnSave()
    {
        var c = CheckpointStoreTests.Small(1);
        c.Tensors["bad"] = new NamedTensor([2, 2], [1f, 2f, 3f]);
        Assert.Throws<ArgumentException>(() => CheckpointFile.Serialize(c, 1));
    }
}
