using System.Diagnostics;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Onnx.Proto;
using EdgeNet.Tests.RealModels;
using Google.Protobuf;

namespace EdgeNet.Tests.Quantization;

/// <summary>Data the quantizer tests share: rendered text-line crops, batch splitting, temp files.</summary>
internal static class QuantTestData
{
    public const int CropCount = 400;
    private static readonly Lazy<(Tensor Crops, byte[] Flipped)> s_crops = new(RenderCrops);

    /// <summary>400 text-line crops ([N, 3, 48, 192], PaddleOCR cls preprocessing) and whether each is turned by 180°.</summary>
    public static (Tensor Crops, byte[] Flipped) TextCrops => s_crops.Value;

    /// <summary>Where make_text_crops.py wrote its files (also 16 raw .ppm crops for the image preprocessing path).</summary>
    public static string CropDir => Path.Combine(Path.GetTempPath(), $"edgenet-text-crops-{CropCount}-v1");

    private static (Tensor, byte[]) RenderCrops()
    {
        string dir = CropDir;
        if (!File.Exists(Path.Combine(dir, "flipped.npy")))
        {
            string tmp = dir + "-" + Guid.NewGuid().ToString("N");
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "tests/EdgeNet.Tests/Quantization/make_text_crops.py"));
            psi.ArgumentList.Add(tmp);
            psi.ArgumentList.Add(CropCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, "make_text_crops.py failed: " + err);
            try { Directory.Move(tmp, dir); } catch (IOException) { Directory.Delete(tmp, true); } // another run won the race
        }
        return (Npy.Read(Path.Combine(dir, "crops.npy")), Npy.Read(Path.Combine(dir, "flipped.npy")).AsSpan<byte>().ToArray());
    }

    /// <summary>Rows [from, from+count) of a batch as batch-1 samples of input <paramref name="name"/>.</summary>
    public static List<Dictionary<string, Tensor>> Samples(string name, Tensor batch, int from, int count)
    {
        var list = new List<Dictionary<string, Tensor>>();
        int bytes = batch.Data.Length / batch.Dims[0];
        var dims = (int[])batch.Dims.Clone();
        dims[0] = 1;
        for (int i = from; i < from + count; i++)
            list.Add(new Dictionary<string, Tensor> { [name] = new Tensor(batch.DataType, (int[])dims.Clone(), batch.Data.Slice(i * bytes, bytes)) });
        return list;
    }

    public static Tensor Rows(Tensor batch, int from, int count)
    {
        int bytes = batch.Data.Length / batch.Dims[0];
        var dims = (int[])batch.Dims.Clone();
        dims[0] = count;
        return new Tensor(batch.DataType, dims, batch.Data.Slice(from * bytes, count * bytes));
    }

    public static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "edgenet-quant-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Writes a model to a fresh temp .onnx file (ONNX Runtime caches sessions by path).</summary>
    public static string Save(ModelProto model, string stem)
    {
        string path = Path.Combine(TempDir(), stem + ".onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    public static int[] ArgMaxRows(Tensor t)
    {
        var x = t.ToFloatArray();
        int cols = t.Dims[^1], rows = x.Length / cols;
        var r = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            int best = 0;
            for (int j = 1; j < cols; j++) if (x[i * cols + j] > x[i * cols + best]) best = j;
            r[i] = best;
        }
        return r;
    }

    public static double Agreement(int[] a, int[] b)
    {
        int same = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] == b[i]) same++;
        return (double)same / a.Length;
    }

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++) { ab += (double)a[i] * b[i]; aa += (double)a[i] * a[i]; bb += (double)b[i] * b[i]; }
        return ab / Math.Sqrt(aa * bb);
    }
}
