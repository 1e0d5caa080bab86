using EdgeNet.Format;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Tests.RealModels;

namespace EdgeNet.Tests.Quantization;

/// <summary>`edgenet convert --quantize int8 --calibration DIR`: the command-line contract, run as a real process.</summary>
public class QuantizeCliTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string DsCnn => RepoPaths.Model("generated/ds_cnn/model.onnx");

    private static (int Code, string Out, string Err) Edgenet(params string[] args) => Support.EdgenetTool.Run(args);

    private static string Out(string dir, string name = "model.enet") => Path.Combine(dir, name);

    [Fact]
    public void QuantizesWithTestDataSetFoldersAndWritesInt8Weights()
    {
        string dir = QuantTestData.TempDir();
        string calibration = Path.GetDirectoryName(DsCnn)!; // holds test_data_set_0/input_0.pb (+ output_0.pb, ignored)
        var (code, stdout, stderr) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int8", "--calibration", calibration,
            "--save-qdq", Out(dir, "qdq.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains("calibrating on 1 samples", stdout);
        Assert.Matches(@"\d+ of \d+ layers int8; \d+ float layers and \d+ other constants store int8 weights", stdout);
        Assert.Contains("model output SNR", stdout);
        Assert.Contains("layer SNR", stdout);
        Assert.True(File.Exists(Out(dir, "qdq.onnx")));
        var model = EnetReader.Load(Out(dir));
        Assert.Contains(model.Graph.Initializers, v => v.Constant!.DataType == DataType.Int8);
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "QuantizeLinear");
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "QLinearConv"); // folded at convert time (int8-ops)
    }

    [Fact]
    public void Int8FileIsAtMostThreeTenthsOfTheFloatFile()
    {
        string model = RepoPaths.Model("generated/mobilenet_v2/model.onnx");
        string dir = QuantTestData.TempDir(), calibration = Path.Combine(dir, "calibration");
        Directory.CreateDirectory(calibration);
        var rng = new Random(3);
        var x = new float[4 * 3 * 224 * 224];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 4 - 2);
        Npy.Write(Path.Combine(calibration, "batch.npy"), Tensor.FromArray([4, 3, 224, 224], x)); // 4 samples in one file
        var (code32, _, err32) = Edgenet("convert", model, "-o", Out(dir, "fp32.enet"));
        Assert.True(code32 == 0, err32);
        var (code8, stdout, err8) = Edgenet("convert", model, "-o", Out(dir, "int8.enet"), "--quantize", "int8", "--calibration", calibration);
        Assert.True(code8 == 0, err8);
        Assert.Contains("calibrating on 4 samples", stdout);
        double ratio = (double)new FileInfo(Out(dir, "int8.enet")).Length / new FileInfo(Out(dir, "fp32.enet")).Length;
        Assert.True(ratio <= 0.3, $"int8 .enet is {ratio:F3} of the fp32 file");
    }

    /// <summary>
    /// lstm_kws / gru_kws (bidirectional GRU): the .enet holds edgenet.QLstm / edgenet.QGru (int8 W/R) and an int8
    /// Gemm, is at most 0.3× the fp32 file, and EdgeNet runs it close to fp32 (top-1 agreement on 200 inputs).
    /// </summary>
    [Theory]
    [InlineData("lstm_kws", "LSTM", "QLstm")]
    [InlineData("gru_kws", "GRU", "QGru")]
    public void RecurrentLayersBecomeInt8OpsAndRunInEdgeNet(string name, string op, string quantizedOp)
    {
        string model = RepoPaths.Model($"generated/{name}/model.onnx");
        string dir = QuantTestData.TempDir(), calibration = Path.Combine(dir, "calibration");
        Directory.CreateDirectory(calibration);
        var rng = new Random(5);
        float[] Gaussian(int n) => Enumerable.Range(0, n).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
        Npy.Write(Path.Combine(calibration, "x.npy"), Tensor.FromArray([32, 49, 40], Gaussian(32 * 49 * 40)));
        var (code, stdout, stderr) = Edgenet("convert", model, "-o", Out(dir), "--quantize", "int8", "--calibration", calibration, "--save-qdq", Out(dir, "qdq.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains("2 LSTM/GRU -> edgenet.QLstm/QGru", stdout);
        var (code32, _, err32) = Edgenet("convert", model, "-o", Out(dir, "fp32.enet"));
        Assert.True(code32 == 0, err32);
        var int8 = EnetReader.Load(Out(dir));
        Assert.Equal(2, int8.Graph.Nodes.Count(n => n.OpType == quantizedOp && n.Domain == "edgenet"));
        Assert.DoesNotContain(int8.Graph.Nodes, n => n.OpType == op);
        double ratio = (double)new FileInfo(Out(dir)).Length / new FileInfo(Out(dir, "fp32.enet")).Length;
        output.WriteLine($"{name}: int8 .enet {ratio:F3}× fp32");
        Assert.True(ratio <= 0.3, $"int8 .enet is {ratio:F3}× the fp32 file");
        var q = new EdgeNet.Execution.Session(int8);
        var f = new EdgeNet.Execution.Session(EnetReader.Load(Out(dir, "fp32.enet")));
        // for context: the QDQ file as EdgeNet imports it without the rewrite (float recurrence on int8-stored weights)
        var qdqModel = EdgeNet.Onnx.OnnxImporter.Load(Out(dir, "qdq.onnx"));
        EdgeNet.Passes.PassPipeline.Optimize(qdqModel);
        var floatRecurrence = new EdgeNet.Execution.Session(qdqModel);
        int same = 0, sameFloatRecurrence = 0;
        for (int i = 0; i < 200; i++)
        {
            var feeds = new Dictionary<string, Tensor> { ["input"] = Tensor.FromArray([1, 49, 40], Gaussian(49 * 40)) };
            int expected = QuantTestData.ArgMaxRows(f.Run(feeds)[0])[0];
            if (QuantTestData.ArgMaxRows(q.Run(feeds)[0])[0] == expected) same++;
            if (QuantTestData.ArgMaxRows(floatRecurrence.Run(feeds)[0])[0] == expected) sameFloatRecurrence++;
        }
        output.WriteLine($"{name}: top-1 agreement {same}/200 ({sameFloatRecurrence}/200 with float recurrence on the int8 weights)");
        // measured: lstm_kws 199 (199 float recurrence), gru_kws 196 (195): the random-weight GRU's near ties flip
        // under the weight and activation quantization as a whole, not under the int8 recurrence
        Assert.True(same >= sameFloatRecurrence - 1, $"int8 recurrence {same}/200 vs float recurrence {sameFloatRecurrence}/200");
        Assert.True(same >= (op == "LSTM" ? 198 : 194), $"EdgeNet int8 ({quantizedOp}) top-1 agreement {same}/200");
    }

    [Fact]
    public void WavPreprocessingFeedsTheMelSpectrogram()
    {
        string mel = RepoPaths.Model("openwakeword/melspectrogram.onnx");
        string speech = Path.GetDirectoryName(RepoPaths.Model("speech/hey_jarvis.wav"))!;
        string dir = QuantTestData.TempDir();
        var (code, stdout, stderr) = Edgenet("convert", mel, "-o", Out(dir), "--quantize", "int8", "--calibration", speech, "--preprocess", "wav:16000,32768,1760");
        Assert.True(code == 0, stderr);
        Assert.Matches(@"calibrating on \d\d+ samples", stdout);
        Assert.Contains("layers int8", stdout);
    }

    [Fact]
    public void ImagePreprocessingFeedsTheTextClassifier()
    {
        _ = QuantTestData.TextCrops; // renders the crops, incl. 16 raw .ppm pictures
        string cls = RepoPaths.Model("ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx");
        string dir = QuantTestData.TempDir();
        var (code, stdout, stderr) = Edgenet("convert", cls, "-o", Out(dir), "--quantize", "int8", "--calibration", Path.Combine(QuantTestData.CropDir, "ppm"),
            "--preprocess", "image:48x192,0.5,0.5", "--calibrate", "minmax");
        Assert.True(code == 0, stderr);
        Assert.Contains("calibrating on 16 samples", stdout);
        Assert.Contains("(minmax)", stdout);
    }

    [Fact]
    public void MissingCalibrationFolderIsAUsageError()
    {
        string dir = QuantTestData.TempDir();
        var (code, _, stderr) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int8", "--calibration", Path.Combine(dir, "nope"));
        Assert.Equal(2, code);
        Assert.Contains("calibration folder", stderr);
        Assert.Contains("does not exist", stderr);
        Assert.False(File.Exists(Out(dir)));
    }

    [Fact]
    public void EmptyCalibrationFolderFailsWithExitCode1()
    {
        string dir = QuantTestData.TempDir(), empty = Path.Combine(dir, "empty");
        Directory.CreateDirectory(empty);
        var (code, _, stderr) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int8", "--calibration", empty);
        Assert.Equal(1, code);
        Assert.Contains("holds no .pb/.npy files", stderr);
        Assert.False(File.Exists(Out(dir)));
    }

    [Fact]
    public void CalibrationTensorOfTheWrongShapeFailsWithExitCode1()
    {
        string dir = QuantTestData.TempDir(), calibration = Path.Combine(dir, "calibration");
        Directory.CreateDirectory(calibration);
        Npy.Write(Path.Combine(calibration, "0.npy"), Tensor.Zeros(DataType.Float32, [1, 1, 10, 49])); // ds_cnn takes [1,1,49,10]
        var (code, _, stderr) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int8", "--calibration", calibration);
        Assert.Equal(1, code);
        Assert.Contains("has shape [1x1x10x49]", stderr);
    }

    [Fact]
    public void CalibrationTensorOfTheWrongTypeFailsWithExitCode1()
    {
        string dir = QuantTestData.TempDir(), calibration = Path.Combine(dir, "calibration");
        Directory.CreateDirectory(calibration);
        Npy.Write(Path.Combine(calibration, "0.npy"), Tensor.Zeros(DataType.Int32, [1, 1, 49, 10]));
        var (code, _, stderr) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int8", "--calibration", calibration);
        Assert.Equal(1, code);
        Assert.Contains("holds Int32", stderr);
    }

    [Theory]
    [InlineData("--preprocess", "jpeg:224x224", "unknown preprocessing 'jpeg'")]
    [InlineData("--preprocess", "image:48by192", "HxW")]
    [InlineData("--preprocess", "image:48x192,0.5,0", "STD > 0")]
    [InlineData("--preprocess", "wav:fast", "RATE")]
    [InlineData("--calibrate", "kl", "--calibrate is percentile, entropy, mse or minmax")]
    [InlineData("--percentile", "20", "--percentile needs a value in [50, 100]")]
    [InlineData("--float-weights", "int4", "--float-weights is int8, fp16 or keep")]
    [InlineData("--weight-rounding", "gptq", "--weight-rounding is hessian or nearest")]
    public void BadQuantizeOptionsAreUsageErrors(string option, string value, string message)
    {
        string dir = QuantTestData.TempDir();
        var (code, _, stderr) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int8", "--calibration", dir, option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void QuantizeNeedsInt8AndACalibrationFolder()
    {
        string dir = QuantTestData.TempDir();
        var (code1, _, err1) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int4", "--calibration", dir);
        Assert.Equal(2, code1);
        Assert.Contains("--quantize supports int8", err1);
        var (code2, _, err2) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int8");
        Assert.Equal(2, code2);
        Assert.Contains("needs --calibration DIR", err2);
        var (code3, _, err3) = Edgenet("convert", DsCnn, "-o", Out(dir), "--calibration", dir);
        Assert.Equal(2, code3);
        Assert.Contains("--calibration applies only with --quantize int8", err3);
        var (code4, _, err4) = Edgenet("convert", DsCnn, "-o", Out(dir), "--float-weights", "keep");
        Assert.Equal(2, code4);
        Assert.Contains("--float-weights applies only with --quantize int8", err4);
        var (code5, _, err5) = Edgenet("convert", DsCnn, "-o", Out(dir), "--int8-weights-for-float-layers");
        Assert.Equal(2, code5);
        Assert.Contains("--int8-weights-for-float-layers applies only with --quantize int8", err5);
    }

    /// <summary>The flag of format version 2 keeps working: it asked for int8 storage of float layers, now the default.</summary>
    [Fact]
    public void TheOldInt8WeightsFlagIsFloatWeightsInt8()
    {
        string dir = QuantTestData.TempDir();
        var (code, _, stderr) = Edgenet("convert", DsCnn, "-o", Out(dir), "--quantize", "int8", "--calibration", dir,
            "--int8-weights-for-float-layers", "--float-weights", "keep");
        Assert.Equal(2, code);
        Assert.Contains("contradicts --float-weights keep", stderr);
    }
}
