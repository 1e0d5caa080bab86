using System.Numerics;

namespace EdgeNet.Kernels.Scatter;

/// <summary>How ScatterElements / ScatterND combine an update with the element already there.</summary>
public enum ScatterReduction { None, Add, Mul, Max, Min }

public static class ScatterReductions
{
    /// <summary>Parses the ONNX reduction attribute; null for a value EdgeNet does not know.</summary>
    public static ScatterReduction? Parse(string s) => s switch
    {
        "none" => ScatterReduction.None,
        "add" => ScatterReduction.Add,
        "mul" => ScatterReduction.Mul,
        "max" => ScatterReduction.Max,
        "min" => ScatterReduction.Min,
        _ => null,
    };

    /// <summary>Opset that introduced each reduction (add/mul in 16, max/min in 18).</summary>
    public static int SinceOpset(ScatterReduction r) => r switch
    {
        ScatterReduction.None => 1,
        ScatterReduction.Add or ScatterReduction.Mul => 16,
        _ => 18,
    };

    /// <summary>dst = reduce(dst, update); duplicate indices therefore accumulate in index order.</summary>
    public static void Apply<T>(ref T dst, T update, ScatterReduction r) where T : unmanaged, INumber<T>
    {
        switch (r)
        {
            case ScatterReduction.Add: dst += update; break;
            case ScatterReduction.Mul: dst *= update; break;
            case ScatterReduction.Max: if (update > dst || T.IsNaN(update)) dst = update; break;
            case ScatterReduction.Min: if (update < dst || T.IsNaN(update)) dst = update; break;
            default: dst = update; break;
        }
    }
}
