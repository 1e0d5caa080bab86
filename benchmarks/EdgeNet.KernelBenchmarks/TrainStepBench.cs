using System.Diagnostics;
using EdgeNet.Onnx;
using EdgeNet.Training;

namespace EdgeNet.KernelBenchmarks;

/// <summary>
/// <c>--train-step MODEL.onnx [--trainable-last N] [--classes C] [--samples S] [--batch B] [--rounds R]</c>: one
/// training step of a new C-class head on seeded Gaussian features (as scripts/train-speed.sh), timed whole and by
/// phase (batch gather, forward, loss, backward, and the rest: gradient norm and optimizer), in µs per step, the
/// minimum over rounds of one epoch each. The phases are run in the Trainer's order, outside it, on the same graph.
/// </summary>
internal static class TrainStepBench
{
    public static void Run(string[] args)
    {
        string path = args.Length > 0 ? args[0] : throw new ArgumentException("model path missing");
        int Arg(string name, int fallback) { int i = Array.IndexOf(args, name); return i >= 0 ? int.Parse(args[i + 1]) : fallback; }
        int last = Arg("--trainable-last", 3), classes = Arg("--classes", 2), samples = Arg("--samples", 5440), batch = Arg("--batch", 32), rounds = Arg("--rounds", 7);
        var model = OnnxImporter.Load(path);
        var setup = new FineTuneSetup { NewHeadClasses = classes, TrainableLast = last };
        foreach (var input in model.Graph.Inputs)
            if (input.Shape is not null && input.Shape.All(d => d.IsKnown)) setup.InputShapes[input.Name] = input.Shape.Select(d => (int)d.Value).ToArray();
        var trainer = new Trainer(model, setup, new TrainerOptions { Epochs = 1, BatchSize = batch, LearningRate = 0.001f, Seed = 0 });
        int size = trainer.Graph.Input.SampleSize;
        var random = new Random(5);
        var labels = new int[samples];
        var data = new float[(long)samples * size];
        for (int s = 0; s < samples; s++)
        {
            labels[s] = random.Next(classes);
            for (int i = 0; i < size; i++) data[(long)s * size + i] = (float)(random.NextDouble() * 16 - 8 + labels[s] * 1.5);
        }
        var set = new FeatureSet(data, size, labels);
        var order = Enumerable.Range(0, samples).ToArray();
        int steps = samples / batch;
        Console.WriteLine($"{path}: {trainer.Graph.Parameters.Sum(p => p.Count)} parameters, {steps} steps of {batch} per round, {rounds} rounds; µs per step (minimum over rounds)");
        var grad = trainer.Graph.Output.Grad(batch);
        var batchLabels = new int[batch];
        var single = new List<double>();
        double best = double.MaxValue, gather = double.MaxValue, forward = double.MaxValue, loss = double.MaxValue, backward = double.MaxValue;
        for (int r = 0; r < rounds + 1; r++)
        {
            random.Shuffle(order);
            var clock = Stopwatch.StartNew();
            for (int s = 0; s < steps; s++)
            {
                long t = Stopwatch.GetTimestamp();
                trainer.Step(set, order.AsSpan(s * batch, batch));
                if (r > 0) single.Add((Stopwatch.GetTimestamp() - t) * 1e6 / Stopwatch.Frequency);
            }
            double whole = clock.Elapsed.TotalMicroseconds / steps;
            random.Shuffle(order);
            long tg = 0, tf = 0, tl = 0, tb = 0;
            for (int s = 0; s < steps; s++)
            {
                long t0 = Stopwatch.GetTimestamp();
                var input = trainer.Graph.Input.Data(batch);
                for (int i = 0; i < batch; i++)
                {
                    int k = order[s * batch + i];
                    data.AsSpan(k * size, size).CopyTo(input.Slice(i * size, size));
                    batchLabels[i] = labels[k];
                }
                long t1 = Stopwatch.GetTimestamp();
                trainer.Graph.Forward(batch, training: true);
                long t2 = Stopwatch.GetTimestamp();
                trainer.Loss.Compute(trainer.Graph.Output.Data(batch), batch, classes, batchLabels, grad);
                long t3 = Stopwatch.GetTimestamp();
                trainer.Graph.Backward(batch);
                long t4 = Stopwatch.GetTimestamp();
                tg += t1 - t0; tf += t2 - t1; tl += t3 - t2; tb += t4 - t3;
            }
            if (r == 0) continue; // warm-up
            double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency / steps;
            best = Math.Min(best, whole);
            gather = Math.Min(gather, Us(tg)); forward = Math.Min(forward, Us(tf)); loss = Math.Min(loss, Us(tl)); backward = Math.Min(backward, Us(tb));
        }
        double rest = best - gather - forward - loss - backward;
        single.Sort();
        Console.WriteLine($"step {best:F1} (single steps: 10th percentile {single[single.Count / 10]:F1}, median {single[single.Count / 2]:F1})  gather {gather:F1}  forward {forward:F1}  loss {loss:F1}  backward {backward:F1}  norm+optimizer+checks {rest:F1}");
    }
}
