using EdgeNet.IR;
using EdgeNet.Kernels;

namespace EdgeNet.Execution;

/// <summary>How a session is planned.</summary>
public sealed class SessionOptions
{
    /// <summary>Intra-op threads (1 = run on the calling thread only).</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Force one kernel ISA path for this session (null: EDGENET_ISA if set, else the fastest the CPU has).</summary>
    public Isa? Isa { get; set; }

    /// <summary>Concrete shapes for inputs with symbolic or unknown dims. Dims not given default to 1.</summary>
    public Dictionary<string, int[]> InputShapes { get; } = new(StringComparer.Ordinal);

    /// <summary>Inputs whose values are fixed for the session (shape tensors, flags): they are folded like initializers.</summary>
    public Dictionary<string, Tensor> SpecializedInputs { get; } = new(StringComparer.Ordinal);

    /// <summary>Values kept alive (not overwritten) until the end of Run, e.g. activations a backward pass needs.</summary>
    public HashSet<string> KeepAlive { get; } = new(StringComparer.Ordinal);

    /// <summary>Evaluate nodes whose inputs are all known at plan time (on by default).</summary>
    public bool FoldConstants { get; set; } = true;

    /// <summary>Plans needing a larger arena are rejected with <see cref="InvalidModelException"/> (default 1 GiB).</summary>
    public long MaxArenaBytes { get; set; } = 1L << 30;

    /// <summary>Let element-wise ops overwrite an input that dies at that node (on by default).</summary>
    public bool AllowInPlace { get; set; } = true;

    /// <summary>Let 3×3 stride-1 convs use Winograd F(4,3)/F(2,3) where it is estimated faster (on by default; EDGENET_WINOGRAD=0 turns it off).</summary>
    public bool Winograd { get; set; } = Environment.GetEnvironmentVariable("EDGENET_WINOGRAD") != "0";
}
