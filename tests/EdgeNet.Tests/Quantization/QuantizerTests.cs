using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Quantization;
using EdgeNet.Tests.RealModels;

namespace EdgeNet.Tests.Quantization;

/// <summary>The quantizer's parts: weight and activation quantization, range methods, calibration folders, preprocessing, export.</summary>
public class QuantizerTests
{
    [Fact]
    public void WeightsArePerChannelSymmetricInt8()
    {
        // 3 output channels of 4 values along axis 0, one of them all zero
        var w = Tensor.FromArray([3, 4], new[] { 0.5f, -1.27f, 0.2f, 0.01f, 0f, 0f, 0f, 0f, 10f, -5f, 2.5f, -10f });
        var (q, scales) = QdqRewriter.QuantizeWeight(w, 0);
        Assert.Equal(DataType.Int8, q.DataType);
        Assert.Equal([0.01f, 1f, 10f / 127], scales);
        var values = q.AsSpan<sbyte>().ToArray();
        Assert.Equal((sbyte)-127, values[1]);
        Assert.Equal((sbyte)127, values[8]);
        Assert.Equal((sbyte)-127, values[11]);
        Assert.All(values, v => Assert.InRange(v, (sbyte)-127, (sbyte)127));
        var x = w.ToFloatArray();
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(values[i] * scales[i / 4] - x[i]) <= scales[i / 4] / 2 + 1e-6f, $"element {i}");
    }

    [Fact]
    public void WeightAxisOneQuantizesColumns()
    {
        var w = Tensor.FromArray([2, 2], new[] { 1f, 100f, -2f, 50f });
        var (q, scales) = QdqRewriter.QuantizeWeight(w, 1);
        Assert.Equal([2f / 127, 100f / 127], scales);
        Assert.Equal([(sbyte)64, (sbyte)127, (sbyte)-127, (sbyte)64], q.AsSpan<sbyte>().ToArray()); // 63.5 rounds to even
    }

    [Theory]
    [InlineData(0f, 2.55f, 0.01f, 0)]
    [InlineData(-1f, 1f, 2f / 255, 127)]   // −lo/scale is 127.49999 in float32
    [InlineData(0.5f, 2.55f, 0.01f, 0)]    // widened to hold 0
    [InlineData(-2.55f, -1f, 0.01f, 255)]
    [InlineData(0f, 0f, 1f, 0)]            // a constant-zero tensor
    public void ActivationRangeHoldsZeroExactly(float lo, float hi, float scale, int zeroPoint)
    {
        var p = ActivationParams.FromRange(lo, hi);
        Assert.Equal(scale, p.Scale, 6);
        Assert.Equal(zeroPoint, p.ZeroPoint);
    }

    private static TensorStatistics StatsOf(float[] values)
    {
        var s = new TensorStatistics();
        s.AddRange(values);
        s.AddHistogram(values);
        return s;
    }

    private static float[] UniformWithOutlier()
    {
        var rng = new Random(1);
        var x = new float[100_000];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        x[17] = 1000f;
        return x;
    }

    [Fact]
    public void MinMaxKeepsTheOutlierAndTheOtherMethodsCutIt()
    {
        var s = StatsOf(UniformWithOutlier());
        Assert.Equal(1000f, s.Range(CalibrationMethod.MinMax).Hi);
        var (lo, hi) = s.Range(CalibrationMethod.Percentile);
        Assert.True(hi is > 0.9f and < 5f, $"percentile: hi {hi}");
        Assert.True(lo >= 0, $"percentile: lo {lo}");
        // MSE weighs the one outlier's squared clipping error against everyone's rounding noise: it shrinks the range a little
        var (_, mseHi) = s.Range(CalibrationMethod.Mse);
        Assert.InRange(mseHi, 500f, 999f);
        // KL works on the 2048-bin histogram and never clips below `levels` bins: 255/2048 of the outlier's 1000
        var (_, entropyHi) = s.Range(CalibrationMethod.Entropy);
        Assert.InRange(entropyHi, 0.9f, 130f);
    }

    [Fact]
    public void EntropyKeepsTheWholeRangeOfAnEvenlySpreadTensor()
    {
        var x = new float[50_000];
        for (int i = 0; i < x.Length; i++) x[i] = i / (float)x.Length;
        var (_, hi) = StatsOf(x).Range(CalibrationMethod.Entropy);
        Assert.True(hi > 0.95f, $"entropy clipped a uniform tensor at {hi}");
    }

    [Fact]
    public void PreprocessingSyntax()
    {
        var image = Preprocessing.Parse("image:48x192,0.5,0.5");
        Assert.Equal((Preprocessing.Kind.Image, 48, 192, 0.5f, 0.5f), (image.Type, image.Height, image.Width, image.Mean, image.Std));
        var plain = Preprocessing.Parse("image:224x224");
        Assert.Equal((0f, 1f), (plain.Mean, plain.Std));
        var wav = Preprocessing.Parse("wav");
        Assert.Equal((16000, 32768f, 0), (wav.SampleRate, wav.Scale, wav.Chunk));
        var chunked = Preprocessing.Parse("wav:8000,1,400");
        Assert.Equal((8000, 1f, 400), (chunked.SampleRate, chunked.Scale, chunked.Chunk));
        foreach (var bad in new[] { "png:1x1", "image", "image:0x5", "image:4x4,1", "image:4x4,a,1", "wav:16000,0", "wav:1,2,3,4", "wav:-5" })
            Assert.Throws<FormatException>(() => Preprocessing.Parse(bad));
    }

    [Fact]
    public void WavPreprocessingMixesResamplesAndChunks()
    {
        string dir = QuantTestData.TempDir();
        // 0.1 s stereo 8 kHz PCM16: left = 16384 (0.5), right = 0 → mono 0.25
        int frames = 800;
        using (var f = new BinaryWriter(File.Create(Path.Combine(dir, "a.wav"))))
        {
            f.Write("RIFF"u8); f.Write(36 + frames * 4); f.Write("WAVE"u8);
            f.Write("fmt "u8); f.Write(16); f.Write((short)1); f.Write((short)2); f.Write(8000); f.Write(8000 * 4); f.Write((short)4); f.Write((short)16);
            f.Write("data"u8); f.Write(frames * 4);
            for (int i = 0; i < frames; i++) { f.Write((short)16384); f.Write((short)0); }
        }
        var input = new Value("audio") { DataType = DataType.Float32, Shape = [Dim.Known(1), Dim.Named("n")] };
        var samples = CalibrationSet.Load(dir, [input], Preprocessing.Parse("wav:16000,2,400"));
        Assert.Equal(4, samples.Count); // 1600 samples at 16 kHz in chunks of 400
        Assert.All(samples, s => Assert.Equal([1, 400], s["audio"].Dims));
        Assert.All(samples[0]["audio"].ToFloatArray(), v => Assert.Equal(0.5f, v, 5));
    }

    [Fact]
    public void CalibrationFolderLayouts()
    {
        var input = new Value("x") { DataType = DataType.Float32, Shape = [Dim.Named("batch"), Dim.Known(2)] };
        string flat = QuantTestData.TempDir();
        Npy.Write(Path.Combine(flat, "a.npy"), Tensor.FromArray([3, 2], new[] { 1f, 2, 3, 4, 5, 6 }));
        TensorFiles.WritePb(Path.Combine(flat, "b.pb"), "x", Tensor.FromArray([1, 2], new[] { 7f, 8 }));
        var samples = CalibrationSet.Load(flat, [input]);
        Assert.Equal(4, samples.Count);
        Assert.Equal([5f, 6f], samples[2]["x"].ToFloatArray());
        Assert.Equal([7f, 8f], samples[3]["x"].ToFloatArray());

        // one sub-folder per sample; files matched to inputs by their TensorProto name
        var y = new Value("y") { DataType = DataType.Float32, Shape = [Dim.Known(1)] };
        string nested = QuantTestData.TempDir();
        for (int s = 0; s < 2; s++)
        {
            string d = Path.Combine(nested, $"test_data_set_{s}");
            Directory.CreateDirectory(d);
            TensorFiles.WritePb(Path.Combine(d, "input_0.pb"), "y", Tensor.FromArray([1], new[] { 10f + s }));
            TensorFiles.WritePb(Path.Combine(d, "input_1.pb"), "x", Tensor.FromArray([1, 2], new[] { 1f, 2 }));
            TensorFiles.WritePb(Path.Combine(d, "output_0.pb"), "out", Tensor.FromArray([1], new[] { 0f }));
        }
        var pairs = CalibrationSet.Load(nested, [input, y]);
        Assert.Equal(2, pairs.Count);
        Assert.Equal([11f], pairs[1]["y"].ToFloatArray());
        Assert.Equal([1, 2], pairs[1]["x"].Dims);

        Assert.Contains("one-input model", Assert.Throws<InputMismatchException>(() => CalibrationSet.Load(flat, [input, y])).Message);
        Assert.Contains("does not exist", Assert.Throws<InputMismatchException>(() => CalibrationSet.Load(Path.Combine(flat, "missing"), [input])).Message);
        string wrong = QuantTestData.TempDir();
        Npy.Write(Path.Combine(wrong, "a.npy"), Tensor.FromArray([1, 3], new[] { 1f, 2, 3 }));
        Assert.Contains("has shape [1x3]", Assert.Throws<InputMismatchException>(() => CalibrationSet.Load(wrong, [input])).Message);
    }

    /// <summary>The float model the quantizer edits (passes, export, opset 9 → 13) still computes what the original does (ONNX Runtime on both).</summary>
    [Fact]
    public void ExportedOpset13FloatModelMatchesTheOriginal()
    {
        string cls = RepoPaths.Model("ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx");
        var crops = QuantTestData.Rows(QuantTestData.TextCrops.Crops, 0, 8);
        var proto = Quantizer.Prepare(OnnxImporter.Load(cls), new Dictionary<string, Tensor> { ["x"] = QuantTestData.Rows(crops, 0, 1) });
        Assert.Equal(13, proto.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        var feeds = new Dictionary<string, Tensor> { ["x"] = crops };
        var expected = OrtOracle.Run(cls, feeds)[0].ToFloatArray();
        var actual = OrtOracle.Run(QuantTestData.Save(proto, "cls-float13"), feeds)[0].ToFloatArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
    }

    [Fact]
    public void NoSamplesIsAnError() =>
        Assert.Throws<InputMismatchException>(() => Quantizer.Quantize(OnnxImporter.Load(RepoPaths.Model("generated/ds_cnn/model.onnx")), []));
}
