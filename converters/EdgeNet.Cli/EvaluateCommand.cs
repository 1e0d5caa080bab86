using EdgeNet.Data;
using EdgeNet.Execution;
using EdgeNet.Training.Metrics;

namespace EdgeNet.Cli;

/// <summary>edgenet evaluate: accuracy, per-class precision/recall and the confusion matrix of a classifier on a labelled folder.</summary>
internal static class EvaluateCommand
{
    public const string Usage = "edgenet evaluate MODEL --data DIR [--image-size HxW] [--normalize MEAN,STD] [--json] [--audio-models DIR] [--threads N]";

    public static int Run(string[] args)
    {
        var a = new Arguments(args, new HashSet<string> { "--json" }, new HashSet<string> { "--data", "--image-size", "--normalize", "--audio-models", "--threads" });
        if (a.Positional.Count != 1) throw new UsageException("give exactly one MODEL");
        string dir = a.Get("--data") ?? throw new UsageException("--data DIR is required");
        var model = ModelFiles.Load(a.Positional[0]);
        // a fine-tuned model remembers its classes (folder names) and how its images were prepared
        IReadOnlyList<string>? classes = model.Metadata.TryGetValue("edgenet.classes", out var names) ? names.Split('\n') : null;
        var folder = LabeledFolder.Open(dir, classes);
        var defaults = new List<string>(args);
        if (a.Get("--image-size") is null && model.Metadata.TryGetValue("edgenet.image_size", out var size)) defaults.AddRange(["--image-size", size]);
        if (a.Get("--normalize") is null && model.Metadata.TryGetValue("edgenet.normalize", out var norm)) defaults.AddRange(["--normalize", norm]);
        var withDefaults = new Arguments(defaults, new HashSet<string> { "--json" }, new HashSet<string> { "--data", "--image-size", "--normalize", "--audio-models", "--threads" });
        var reader = SampleReader.Create(model, folder.Kind, withDefaults, a.Positional[0]);
        var options = new SessionOptions { Threads = a.GetInt("--threads", 1, min: 1) };
        options.InputShapes[reader.InputName] = reader.InputShape;
        var session = new Session(model, options);
        int outputs = Shapes(session.OutputShape(0));
        var matrix = new ConfusionMatrix(classes ?? folder.Classes);
        if (outputs != matrix.ClassCount && !(outputs == 1 && matrix.ClassCount == 2))
            throw new InputMismatchException($"The model gives {outputs} scores per sample but the data has {matrix.ClassCount} classes");
        var scores = new float[Math.Max(2, outputs)];
        foreach (var file in folder.Files)
        {
            reader.Fill(file.Path, session.Input<float>(0));
            session.Run();
            var output = session.Output<float>(0);
            if (outputs == 1) { scores[0] = 1 - output[0]; scores[1] = output[0]; } // one sigmoid score: class 1 when ≥ 0.5
            else output[..outputs].CopyTo(scores);
            matrix.AddScores(file.Label, scores);
        }
        Console.WriteLine(a.Flag("--json") ? matrix.ToJson() : matrix.ToText());
        return 0;
    }

    private static int Shapes(int[] dims) => IR.Shapes.Count(dims) / Math.Max(1, dims[0]);
}
