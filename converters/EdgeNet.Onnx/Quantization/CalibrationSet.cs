using EdgeNet.IR;

namespace EdgeNet.Onnx.Quantization;

/// <summary>
/// Calibration samples: one dictionary of model inputs per sample. A folder holds either
/// sub-folders (e.g. test_data_set_*) with one input_*.pb / .npy file per model input, matched by the TensorProto's
/// name or else by file order; or, for a one-input model, .pb / .npy files directly, one sample each (a file whose
/// first dim is N where the input's first dim is 1 or symbolic holds N samples); or, with a <see cref="Preprocessing"/>,
/// pictures or WAVs.
/// </summary>
public static class CalibrationSet
{
    public static List<Dictionary<string, Tensor>> Load(string dir, IReadOnlyList<Value> inputs, Preprocessing? preprocessing = null)
    {
        if (!Directory.Exists(dir)) throw new InputMismatchException($"Calibration folder '{dir}' does not exist");
        var samples = new List<Dictionary<string, Tensor>>();
        if (preprocessing is not null)
        {
            var input = SingleInput(inputs, "preprocessed files");
            int channels = input.Shape is { Length: 4 } s && s[1].IsKnown ? (int)s[1].Value : 3;
            foreach (var file in Files(dir, preprocessing.Extensions))
                foreach (var t in preprocessing.Apply(file, channels))
                    AddSplit(samples, input, t, file);
            if (samples.Count == 0)
                throw new InputMismatchException($"Calibration folder '{dir}' holds no {string.Join("/", preprocessing.Extensions)} files for '{(preprocessing.Type == Preprocessing.Kind.Image ? "image" : "wav")}' preprocessing");
            return samples;
        }
        string[] tensorExtensions = [".pb", ".npy"];
        var subdirs = Directory.GetDirectories(dir).Order(StringComparer.Ordinal).Where(d => Files(d, tensorExtensions).Count > 0).ToList();
        if (subdirs.Count > 0)
        {
            foreach (var sub in subdirs)
            {
                var files = Files(sub, tensorExtensions).Where(f => !Path.GetFileName(f).StartsWith("output", StringComparison.Ordinal)).ToList();
                if (files.Count != inputs.Count)
                    throw new InputMismatchException($"Calibration sample '{sub}' has {files.Count} input files; the model has {inputs.Count} inputs ({string.Join(", ", inputs.Select(v => v.Name))})");
                var sample = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                for (int i = 0; i < files.Count; i++)
                {
                    var (name, tensor) = ReadTensor(files[i]);
                    var input = inputs.FirstOrDefault(v => v.Name == name) ?? inputs[i];
                    Check(input, tensor, files[i], allowBatch: false);
                    sample[input.Name] = tensor;
                }
                samples.Add(sample);
            }
            return samples;
        }
        var top = Files(dir, tensorExtensions);
        if (top.Count == 0)
            throw new InputMismatchException($"Calibration folder '{dir}' holds no .pb/.npy files and no sample sub-folders (test_data_set_*/input_*.pb); for pictures or WAVs give --preprocess");
        var only = SingleInput(inputs, ".pb/.npy files directly in the folder (use one sub-folder per sample)");
        foreach (var file in top) AddSplit(samples, only, ReadTensor(file).Tensor, file);
        return samples;
    }

    private static Value SingleInput(IReadOnlyList<Value> inputs, string what) => inputs.Count == 1 ? inputs[0]
        : throw new InputMismatchException($"The model has {inputs.Count} inputs ({string.Join(", ", inputs.Select(v => v.Name))}); {what} can feed a one-input model only");

    private static List<string> Files(string dir, IReadOnlyList<string> extensions) =>
        Directory.GetFiles(dir).Where(f => extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToList();

    private static (string Name, Tensor Tensor) ReadTensor(string file) =>
        Path.GetExtension(file).Equals(".npy", StringComparison.OrdinalIgnoreCase) ? ("", Npy.Read(file)) : TensorFiles.ReadPb(file);

    /// <summary>Adds the tensor as one sample, or as N batch-1 samples when its first dim stands for the input's 1 / symbolic batch dim.</summary>
    private static void AddSplit(List<Dictionary<string, Tensor>> samples, Value input, Tensor t, string file)
    {
        bool batchDim = input.Shape is { Length: > 0 } s && (!s[0].IsKnown || s[0].Value == 1) && t.Rank == s.Length && t.Dims[0] > 1;
        Check(input, t, file, allowBatch: batchDim);
        if (!batchDim) { samples.Add(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [input.Name] = t }); return; }
        int n = t.Dims[0], bytes = t.Data.Length / n;
        int[] dims = (int[])t.Dims.Clone();
        dims[0] = 1;
        for (int i = 0; i < n; i++)
            samples.Add(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [input.Name] = new Tensor(t.DataType, (int[])dims.Clone(), t.Data.Slice(i * bytes, bytes)) });
    }

    private static void Check(Value input, Tensor t, string file, bool allowBatch)
    {
        if (input.DataType != DataType.Undefined && t.DataType != input.DataType)
            throw new InputMismatchException($"Calibration file '{file}' holds {t.DataType}; input '{input.Name}' takes {input.DataType}");
        if (input.Shape is not { } shape) return;
        bool ok = shape.Length == t.Rank;
        for (int i = 0; ok && i < shape.Length; i++)
            if (shape[i].IsKnown && shape[i].Value != t.Dims[i] && !(i == 0 && allowBatch)) ok = false;
        if (!ok)
            throw new InputMismatchException($"Calibration file '{file}' has shape {Shapes.Format(t.Dims)}; input '{input.Name}' is [{string.Join("x", shape.Select(d => d.ToString()))}]");
    }
}
