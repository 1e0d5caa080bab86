using System.Diagnostics;
using System.Globalization;
using EdgeNet.Data;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Training;
using EdgeNet.Training.Audio;
using EdgeNet.Training.Metrics;
using EdgeNet.Training.Optimizers;

namespace EdgeNet.Cli;

/// <summary>edgenet finetune: trains the last layers of a model (or a new head) on a folder of labelled images or WAVs.</summary>
internal static class FinetuneCommand
{
    public const string Usage = "edgenet finetune BASE --data DIR [--val DIR] --out NEW.enet [--feature NODE] [--head-classes auto|N|keep] [--trainable-last N] [--epochs E] [--lr L] [--batch B] [--seed S] [--image-size HxW] [--normalize MEAN,STD] [--plot history.png]"
        + " [--history history.csv] [--optimizer sgd|adam] [--momentum M] [--nesterov] [--weight-decay W] [--schedule constant|step:EVERY:GAMMA|cosine] [--clip-norm C] [--ema DECAY] [--val-split F] [--patience P] [--train-batchnorm] [--features X.npy --labels Y.npy] [--dump-features DIR] [--audio-models DIR] [--quiet]"
        + WakeWordData.Usage;

    private static readonly HashSet<string> s_flags = ["--nesterov", "--train-batchnorm", "--quiet"];
    private static readonly HashSet<string> s_options =
    [
        "--data", "--val", "--out", "--feature", "--head-classes", "--trainable-last", "--epochs", "--lr", "--batch", "--seed", "--image-size",
        "--normalize", "--plot", "--history", "--optimizer", "--momentum", "--weight-decay", "--schedule", "--clip-norm", "--ema", "--val-split", "--patience",
        "--features", "--labels", "--dump-features", "--audio-models", .. WakeWordData.Options,
    ];

    public static int Run(string[] args)
    {
        var a = new Arguments(args, s_flags, s_options);
        if (a.Positional.Count != 1) throw new UsageException("give exactly one BASE model");
        string outPath = a.Get("--out") ?? throw new UsageException("--out NEW.enet is required");
        string? dataDir = a.Get("--data"), featuresPath = a.Get("--features");
        if ((dataDir is null) == (featuresPath is null)) throw new UsageException("give --data DIR (or --features X.npy --labels Y.npy)");
        bool quiet = a.Flag("--quiet");
        var model = ModelFiles.Load(a.Positional[0]);

        // data
        LabeledFolder? train = null, val = null;
        SampleReader? reader = null;
        FeatureSet? givenFeatures = null;
        IReadOnlyList<string> classes;
        if (dataDir is not null)
        {
            train = LabeledFolder.Open(dataDir);
            if (a.Get("--val") is { } valDir) val = LabeledFolder.Open(valDir, train.Classes);
            classes = train.Classes;
            reader = SampleReader.Create(model, train.Kind, a, a.Positional[0]);
        }
        else
        {
            string labelsPath = a.Get("--labels") ?? throw new UsageException("--features needs --labels Y.npy");
            var x = TensorFiles.Read(featuresPath!);
            var y = TensorFiles.Read(labelsPath).ToInt64Array();
            if (x.Rank < 2 || x.Dims[0] != y.Length) throw new UsageException($"--features has shape {Shapes.Format(x.Dims)} but --labels has {y.Length} labels");
            int maxLabel = (int)y.Max();
            classes = Enumerable.Range(0, maxLabel + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            givenFeatures = new FeatureSet(x.ToFloatArray(), x.ElementCount / x.Dims[0], y.Select(v => (int)v).ToArray());
            // the backbone is still planned (to find the cut's shape): an image model needs its input size
            if (model.Graph.Inputs is [{ Shape.Length: 4 }]) reader = SampleReader.Create(model, SampleKind.Image, a, a.Positional[0]);
        }

        // what to train
        string headOption = a.Get("--head-classes") ?? "auto";
        int? newHead = headOption switch
        {
            "auto" => classes.Count,
            "keep" => null,
            _ => int.TryParse(headOption, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new UsageException($"--head-classes takes auto, keep or a class count, got '{headOption}'"),
        };
        if (newHead is int h && h < classes.Count) throw new UsageException($"--head-classes {h} is fewer than the {classes.Count} class folders");
        var setup = new FineTuneSetup { Feature = a.Get("--feature"), NewHeadClasses = newHead, TrainableLast = a.GetInt("--trainable-last", 1, min: 1) };
        if (reader is not null) setup.InputShapes[reader.InputName] = reader.InputShape;
        else foreach (var input in model.Graph.Inputs) if (input.Shape is not null && input.Shape.All(d => d.IsKnown)) setup.InputShapes[input.Name] = input.Shape.Select(d => (int)d.Value).ToArray();
        int epochs = a.GetInt("--epochs", 20, min: 1);
        var options = new TrainerOptions
        {
            Epochs = epochs,
            BatchSize = a.GetInt("--batch", 32, min: 1),
            LearningRate = (float)a.GetDouble("--lr", 0.01),
            Seed = a.GetInt("--seed", 0),
            Optimizer = (a.Get("--optimizer") ?? "sgd") switch { "sgd" => OptimizerKind.Sgd, "adam" => OptimizerKind.Adam, var o => throw new UsageException($"--optimizer takes sgd or adam, got '{o}'") },
            Momentum = (float)a.GetDouble("--momentum", 0.9),
            Nesterov = a.Flag("--nesterov"),
            WeightDecay = (float)a.GetDouble("--weight-decay", 0),
            Schedule = ParseSchedule(a.Get("--schedule"), epochs),
            ClipNorm = (float)a.GetDouble("--clip-norm", 0),
            EmaDecay = (float)a.GetDouble("--ema", 0),
            ValidationSplit = val is null ? a.GetDouble("--val-split", 0) : 0,
            EarlyStoppingPatience = a.GetInt("--patience", 0),
            TrainBatchNorm = a.Flag("--train-batchnorm"),
        };
        if (options.ValidationSplit >= 1) throw new UsageException("--val-split must be below 1");
        if (options.EmaDecay is < 0 or >= 1) throw new UsageException("--ema takes a decay in (0, 1), e.g. 0.999 (0: off)");

        var trainer = new Trainer(model, setup, options);
        if (!quiet)
        {
            Console.WriteLine($"base {a.Positional[0]}: {(newHead is null ? "continuing its head" : $"new {newHead}-class head on '{trainer.FeatureTensor}'")}");
            Console.WriteLine($"training from '{trainer.Cut}' on: {trainer.Graph.Layers.Count} layers, {trainer.Graph.Parameters.Sum(p => p.Count)} parameters ({string.Join(", ", trainer.Graph.Nodes.Select(n => n.OpType))}); loss {trainer.Loss.Name}");
        }

        // cache the frozen backbone's outputs once
        var clock = Stopwatch.StartNew();
        FeatureSet trainSet;
        FeatureSet? valSet = null;
        WakeWordData? wakeWord = null;
        if (givenFeatures is not null) trainSet = givenFeatures;
        else if (a.Get("--detect") is not null)
        {
            // wake word: every 80 ms window of the clips and negative audio, labelled around the phrase end
            if (reader?.Audio is null) throw new UsageException("--detect needs a folder of WAVs");
            wakeWord = new WakeWordData(a, reader.Audio, classes, options.Seed);
            var windows = wakeWord.Build(train!, withNegativeAudio: true, augment: true, out string trainSummary);
            if (!quiet) Console.WriteLine($"train: {trainSummary}");
            trainSet = trainer.CacheFeatures(windows.Count, (i, dst) => windows.Sample(i).CopyTo(dst), windows.Labels);
            if (val is not null)
            {
                var v = wakeWord.Build(val, withNegativeAudio: false, augment: false, out trainSummary);
                if (!quiet) Console.WriteLine($"val: {trainSummary}");
                valSet = trainer.CacheFeatures(v.Count, (i, dst) => v.Sample(i).CopyTo(dst), v.Labels);
            }
        }
        else
        {
            trainSet = trainer.CacheFeatures(train!.Count, (i, dst) => reader!.Fill(train.Files[i].Path, dst), train.Files.Select(f => f.Label).ToArray());
            if (val is not null) valSet = trainer.CacheFeatures(val.Count, (i, dst) => reader!.Fill(val.Files[i].Path, dst), val.Files.Select(f => f.Label).ToArray());
        }
        if (!quiet && givenFeatures is null)
            Console.WriteLine($"cached backbone features of {trainSet.Count + (valSet?.Count ?? 0)} samples in {clock.Elapsed.TotalSeconds:F2} s ({trainSet.SampleSize} values each)");
        if (a.Get("--dump-features") is { } dumpDir) DumpFeatures(dumpDir, trainer, trainSet, valSet);

        var history = new TrainingHistory();
        trainer.EpochCompleted += e =>
        {
            history.Add(new EpochRecord(e.Epoch, e.Loss, e.Accuracy, e.ValidationLoss, e.ValidationAccuracy, e.LearningRate));
            if (!quiet) Console.WriteLine(ProgressLine(e, epochs));
        };
        trainer.StepRejected += r => { if (!quiet) Console.Error.WriteLine($"warning: step {r.Step} rejected ({r.Reason}); weights unchanged"); };
        var fit = trainer.Fit(trainSet, valSet);
        double trainSeconds = fit.Epochs.Sum(e => e.Seconds);
        if (wakeWord is not null && a.GetInt("--mine-epochs", 0) is int mineEpochs and > 0)
        {
            // hard-negative mining: continue training with the negatives the first round still takes for the wake word
            var mined = wakeWord.WithHardNegatives(trainer, trainSet, a.GetInt("--mine-repeat", 3, min: 1), out int hard);
            if (!quiet) Console.WriteLine($"hard-negative mining: {hard} negative windows classified as '{a.Get("--detect")}', repeated {a.GetInt("--mine-repeat", 3, min: 1)}x; {mineEpochs} more epochs");
            var setup2 = new FineTuneSetup { Feature = trainer.FeatureTensor, TrainFrom = trainer.Cut };
            foreach (var (name, shape) in setup.InputShapes) setup2.InputShapes[name] = shape;
            var again = new Trainer(model, setup2,
                new TrainerOptions
                {
                    Epochs = mineEpochs, BatchSize = options.BatchSize, LearningRate = options.LearningRate, Seed = options.Seed + 1, Optimizer = options.Optimizer,
                    Momentum = options.Momentum, Nesterov = options.Nesterov, WeightDecay = options.WeightDecay, ClipNorm = options.ClipNorm, TrainBatchNorm = options.TrainBatchNorm, EmaDecay = options.EmaDecay,
                });
            again.EpochCompleted += e =>
            {
                history.Add(new EpochRecord(fit.Epochs.Count + e.Epoch, e.Loss, e.Accuracy, e.ValidationLoss, e.ValidationAccuracy, e.LearningRate));
                if (!quiet) Console.WriteLine(ProgressLine(e, mineEpochs));
            };
            // mined already holds features at the cut, which `again` trains from: no second copy (a wake-word set of
            // ~660k windows is 4 GB)
            var fit2 = again.Fit(mined, valSet);
            trainSeconds += fit2.Epochs.Sum(e => e.Seconds);
            fit = new FitResult([.. fit.Epochs, .. fit2.Epochs], fit2.StoppedEarly, fit.Epochs.Count + fit2.BestEpoch);
        }

        model.Metadata["edgenet.classes"] = string.Join("\n", classes);
        model.Metadata["edgenet.finetune"] = $"feature={trainer.FeatureTensor} cut={trainer.Cut} epochs={fit.Epochs.Count} lr={options.LearningRate.ToString(CultureInfo.InvariantCulture)} batch={options.BatchSize} seed={options.Seed}";
        if (options.EmaDecay > 0) model.Metadata["edgenet.finetune"] += string.Create(CultureInfo.InvariantCulture, $" ema={options.EmaDecay}");
        if (reader?.Spec is { } spec)
        {
            model.Metadata["edgenet.image_size"] = $"{spec.Height}x{spec.Width}";
            model.Metadata["edgenet.normalize"] = string.Create(CultureInfo.InvariantCulture, $"{spec.Mean},{spec.Std}");
        }
        Format.EnetWriter.Write(model, outPath);
        if (a.Get("--history") is { } csv) history.WriteCsv(csv);
        if (a.Get("--plot") is { } plot) history.WritePlot(plot);
        var last = fit.Epochs[^1];
        var inv = CultureInfo.InvariantCulture;
        string summary = string.Create(inv, $"saved {outPath}: {fit.Epochs.Count} epochs in {trainSeconds:F3} s training, {trainer.Optimizer.Steps} steps, loss {last.Loss:F4}, acc {last.Accuracy * 100:F1}%");
        if (!double.IsNaN(last.ValidationAccuracy)) summary += string.Create(inv, $", val acc {last.ValidationAccuracy * 100:F1}%");
        if (options.EmaDecay > 0) summary += string.Create(inv, $", weights averaged (decay {options.EmaDecay})");
        if (fit.StoppedEarly) summary += string.Create(inv, $" (stopped early; weights of epoch {fit.BestEpoch})");
        if (trainer.RejectedSteps > 0) summary += string.Create(inv, $", {trainer.RejectedSteps} steps rejected");
        Console.WriteLine(summary);
        return 0;
    }

    private static string ProgressLine(EpochResult e, int epochs)
    {
        const int width = 20;
        int filled = (int)Math.Round(width * (double)e.Epoch / epochs);
        var inv = CultureInfo.InvariantCulture;
        string line = string.Create(inv, $"epoch {e.Epoch.ToString(inv).PadLeft(epochs.ToString(inv).Length)}/{epochs} [{new string('#', filled)}{new string('.', width - filled)}] loss {e.Loss:F4} acc {e.Accuracy * 100:F1}%");
        if (!double.IsNaN(e.ValidationLoss)) line += string.Create(inv, $" val_loss {e.ValidationLoss:F4} val_acc {e.ValidationAccuracy * 100:F1}%");
        line += string.Create(inv, $" lr {e.LearningRate:G3} {e.Seconds * 1000:F0} ms");
        if (e.RejectedSteps > 0) line += string.Create(inv, $" rejected {e.RejectedSteps}");
        return line;
    }

    private static LearningRateSchedule ParseSchedule(string? text, int epochs)
    {
        if (text is null or "constant") return LearningRateSchedule.Constant;
        if (text == "cosine") return new CosineSchedule(epochs);
        var parts = text.Split(':');
        if (parts.Length == 3 && parts[0] == "step" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int every) && every > 0
            && float.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out float gamma))
            return new StepSchedule(every, gamma);
        throw new UsageException($"--schedule takes constant, cosine or step:EVERY:GAMMA, got '{text}'");
    }

    /// <summary>Writes the cached features, labels and the trainable part's initial parameters as .npy (for comparisons with other frameworks).</summary>
    private static void DumpFeatures(string dir, Trainer trainer, FeatureSet train, FeatureSet? val)
    {
        Directory.CreateDirectory(dir);
        void Write(string name, FeatureSet set)
        {
            // streamed, not through a tensor: wake-word window sets exceed the tensor size limit
            FeatureFiles.WriteNpy(Path.Combine(dir, name + "_x.npy"), set.Data, set.Count, set.SampleSize);
            FeatureFiles.WriteNpy(Path.Combine(dir, name + "_y.npy"), set.Labels);
        }
        // a weight training stores transposed is written as the model file had it, as other frameworks load it
        static Tensor Untransposed(TrainParameter p)
        {
            int rows = p.Tensor.Dims[0], cols = p.Tensor.Dims[1];
            var v = p.Value;
            var t = new float[v.Length];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
            return Tensor.FromArray([cols, rows], t);
        }
        Write("train", train);
        if (val is not null) Write("val", val);
        for (int i = 0; i < trainer.Graph.Parameters.Count; i++)
        {
            var p = trainer.Graph.Parameters[i];
            Npy.Write(Path.Combine(dir, $"param{i}.npy"), p.Transposed ? Untransposed(p) : Tensor.FromArray(p.Tensor.Dims, p.Value.ToArray()));
        }
    }
}

/// <summary>Reads one sample file into a model input: images through <see cref="ImageFile"/>, WAVs through the openWakeWord embedding chain.</summary>
internal sealed class SampleReader
{
    private readonly WakeWordFeatures? _audio;

    private SampleReader(string inputName, int[] inputShape, ImageSpec? spec, WakeWordFeatures? audio)
    {
        InputName = inputName; InputShape = inputShape; Spec = spec; _audio = audio;
    }

    public string InputName { get; }
    /// <summary>The model input shape with batch 1.</summary>
    public int[] InputShape { get; }
    public ImageSpec? Spec { get; }
    /// <summary>The embedding chain for WAV data (null for images).</summary>
    public WakeWordFeatures? Audio => _audio;

    public static SampleReader Create(Model model, SampleKind kind, Arguments a, string modelPath)
    {
        if (model.Graph.Inputs.Count != 1) throw new UsageException($"the model has {model.Graph.Inputs.Count} inputs; fine-tuning on a folder needs exactly one");
        var input = model.Graph.Inputs[0];
        var dims = input.Shape ?? throw new UsageException($"input '{input.Name}' has no declared shape");
        if (kind == SampleKind.Image)
        {
            if (dims.Length != 4) throw new UsageException($"input '{input.Name}' is not an NCHW image ({dims.Length} dims)");
            int channels = dims[1].IsKnown ? (int)dims[1].Value : 3;
            int height = dims[2].IsKnown ? (int)dims[2].Value : 0, width = dims[3].IsKnown ? (int)dims[3].Value : 0;
            if (a.Get("--image-size") is { } size && !ImageSpec.TryParseSize(size, out height, out width)) throw new UsageException($"--image-size takes HxW, got '{size}'");
            if (height <= 0 || width <= 0) throw new UsageException($"the model's input '{input.Name}' has no fixed height and width; give --image-size HxW");
            float mean = 0, std = 1;
            if (a.Get("--normalize") is { } norm && !ImageSpec.TryParseNormalize(norm, out mean, out std)) throw new UsageException($"--normalize takes MEAN,STD, got '{norm}'");
            var spec = new ImageSpec(channels, height, width, mean, std);
            return new SampleReader(input.Name, [1, channels, height, width], spec, null);
        }
        // WAVs → openWakeWord embedding windows: the model must read [1, W, 96]
        if (dims.Length != 3 || !dims[1].IsKnown || !dims[2].IsKnown || dims[2].Value != WakeWordFeatures.EmbeddingSize)
            throw new UsageException($"WAV data needs a model reading openWakeWord embedding windows [1, W, 96]; input '{input.Name}' is {dims.Length}-D");
        string dir = a.Get("--audio-models") ?? (File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".", "melspectrogram.onnx"))
            ? Path.GetDirectoryName(Path.GetFullPath(modelPath))! : Path.Combine("models", "openwakeword"));
        string mel = Path.Combine(dir, "melspectrogram.onnx"), emb = Path.Combine(dir, "embedding_model.onnx");
        if (!File.Exists(mel) || !File.Exists(emb)) throw new UsageException($"WAV data needs melspectrogram.onnx and embedding_model.onnx in '{dir}' (--audio-models DIR)");
        var audio = new WakeWordFeatures(ModelFiles.Load(mel), ModelFiles.Load(emb), (int)dims[1].Value);
        return new SampleReader(input.Name, [1, (int)dims[1].Value, WakeWordFeatures.EmbeddingSize], null, audio);
    }

    public void Fill(string path, Span<float> destination)
    {
        if (Spec is not null) ImageFile.Load(path, Spec, destination);
        else _audio!.ClipWindow(WavReader.ReadMono(path, WakeWordFeatures.SampleRate, fullScale: 32768f), destination);
    }
}
