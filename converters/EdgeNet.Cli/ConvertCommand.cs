using System.Globalization;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Quantization;
using Google.Protobuf;

namespace EdgeNet.Cli;

/// <summary>
/// edgenet convert MODEL.onnx -o MODEL.enet [--quantize int8 --calibration DIR ...]: import, (quantize,) run the graph
/// passes once, write the .enet file.
/// </summary>
internal static class ConvertCommand
{
    public const string Usage = "edgenet convert MODEL.onnx -o MODEL.enet [--quantize int8 --calibration DIR [--preprocess image:HxW[,MEAN,STD]|wav[:RATE[,SCALE[,CHUNK]]]] [--calibrate percentile|mse|entropy|minmax] [--percentile P] [--min-snr DB] [--float-weights int8|fp16|keep] [--weight-rounding hessian|nearest] [--save-qdq FILE.onnx]]";

    // --int8-weights-for-float-layers (before format version 3) is still accepted: it asked for what is now the default
    private static readonly HashSet<string> s_flags = ["--int8-weights-for-float-layers"];
    private static readonly HashSet<string> s_options =
        ["--output", "--quantize", "--calibration", "--preprocess", "--calibrate", "--percentile", "--min-snr", "--float-weights", "--weight-rounding", "--save-qdq"];

    public static int Run(string[] args)
    {
        var a = new Arguments(args, s_flags, s_options, new Dictionary<string, string> { ["-o"] = "--output" });
        if (a.Positional.Count != 1) throw new UsageException("give exactly one MODEL.onnx");
        string output = a.Get("--output") ?? throw new UsageException("give the output file with -o MODEL.enet");
        string input = a.Positional[0];
        if (!File.Exists(input)) throw new UsageException($"model file '{input}' does not exist");
        var quantize = QuantizeSettings(a);
        var model = OnnxImporter.Load(input);
        int before = model.Graph.Nodes.Count;
        if (quantize is var (dir, preprocessing, options, saveQdq))
        {
            var samples = CalibrationSet.Load(dir, model.Graph.Inputs, preprocessing);
            Console.WriteLine($"calibrating on {samples.Count} samples from {dir} ({options.Method.ToString().ToLowerInvariant()})");
            var result = Quantizer.Quantize(model, samples, options);
            Console.WriteLine(result.Report());
            if (saveQdq is not null)
            {
                File.WriteAllBytes(saveQdq, result.QdqModel.ToByteArray());
                Console.WriteLine($"wrote {saveQdq} (QDQ ONNX)");
            }
            model = OnnxImporter.FromProto(result.QdqModel);
            if (QRecurrentRewrite.Apply(model) is > 0 and var rnns) Console.WriteLine($"{rnns} LSTM/GRU -> edgenet.QLstm/QGru");
        }
        var report = Passes.PassPipeline.Optimize(model);
        // the quantizer rounded the float weights it measured as safe to int8 / float16 values; the writer stores
        // exactly those compactly (format version 3), every other weight as is
        bool compact = quantize is { Options.FloatWeights: not FloatWeightStorage.Keep };
        Format.EnetWriter.Write(model, output, new Format.EnetWriteOptions { CompactFloatWeights = compact });
        Console.WriteLine($"{input}: {before} nodes -> {model.Graph.Nodes.Count} after passes ({report})");
        Console.WriteLine($"wrote {output} ({new FileInfo(output).Length} bytes)");
        return 0;
    }

    private static (string Dir, Preprocessing? Preprocessing, QuantizerOptions Options, string? SaveQdq)? QuantizeSettings(Arguments a)
    {
        string? mode = a.Get("--quantize");
        if (mode is null)
        {
            foreach (var o in new[] { "--calibration", "--preprocess", "--calibrate", "--percentile", "--min-snr", "--float-weights", "--weight-rounding", "--save-qdq" })
                if (a.Get(o) is not null) throw new UsageException($"{o} applies only with --quantize int8");
            if (a.Flag("--int8-weights-for-float-layers")) throw new UsageException("--int8-weights-for-float-layers applies only with --quantize int8");
            return null;
        }
        if (mode != "int8") throw new UsageException($"--quantize supports int8, not '{mode}'");
        string dir = a.Get("--calibration") ?? throw new UsageException("--quantize int8 needs --calibration DIR (sample inputs)");
        if (!Directory.Exists(dir)) throw new UsageException($"calibration folder '{dir}' does not exist");
        Preprocessing? preprocessing = null;
        if (a.Get("--preprocess") is { } spec)
        {
            try { preprocessing = Preprocessing.Parse(spec); }
            catch (FormatException e) { throw new UsageException(e.Message); }
        }
        var options = new QuantizerOptions();
        if (a.Get("--calibrate") is { } method)
            options.Method = method switch
            {
                "minmax" => CalibrationMethod.MinMax,
                "percentile" => CalibrationMethod.Percentile,
                "entropy" => CalibrationMethod.Entropy,
                "mse" => CalibrationMethod.Mse,
                _ => throw new UsageException($"--calibrate is percentile, entropy, mse or minmax, not '{method}'"),
            };
        double percentile = a.GetDouble("--percentile", options.Percentile);
        if (percentile is < 50 or > 100) throw new UsageException($"--percentile needs a value in [50, 100], got {percentile.ToString(CultureInfo.InvariantCulture)}");
        options.Percentile = percentile;
        options.MinLayerSnrDb = a.GetDouble("--min-snr", options.MinLayerSnrDb);
        if (a.Flag("--int8-weights-for-float-layers"))
        {
            if (a.Get("--float-weights") is { } other && other != "int8")
                throw new UsageException($"--int8-weights-for-float-layers is --float-weights int8; it contradicts --float-weights {other}");
            options.FloatWeights = FloatWeightStorage.Int8;
        }
        if (a.Get("--float-weights") is { } storage)
            options.FloatWeights = storage switch
            {
                "int8" => FloatWeightStorage.Int8,
                "fp16" => FloatWeightStorage.Float16,
                "keep" => FloatWeightStorage.Keep,
                _ => throw new UsageException($"--float-weights is int8, fp16 or keep, not '{storage}'"),
            };
        if (a.Get("--weight-rounding") is { } rounding)
            options.Rounding = rounding switch
            {
                "hessian" => WeightRounding.Hessian,
                "nearest" => WeightRounding.Nearest,
                _ => throw new UsageException($"--weight-rounding is hessian or nearest, not '{rounding}'"),
            };
        return (dir, preprocessing, options, a.Get("--save-qdq"));
    }
}
