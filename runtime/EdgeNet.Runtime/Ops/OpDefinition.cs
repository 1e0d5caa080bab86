using EdgeNet.Execution;

namespace EdgeNet.Ops;

/// <summary>
/// One operator: its shape/type rule (<see cref="Infer"/>, run with concrete shapes when a session is planned)
/// and its kernel factory (<see cref="CreateKernel"/>, the tflite-micro "Prepare": everything computable before the
/// first inference is computed there, so <see cref="Kernel.Execute"/> only does the math).
/// </summary>
public abstract class OpDefinition
{
    /// <summary>ONNX op type, e.g. "Conv".</summary>
    public abstract string OpType { get; }

    /// <summary>Operator domain: "" (ONNX default), "com.microsoft", or "edgenet" for ops made by graph passes.</summary>
    public virtual string Domain => "";

    /// <summary>Sets the type and shape of every output (or a constant output, as Shape does) from the inputs.</summary>
    public abstract void Infer(OpContext ctx);

    /// <summary>Builds the kernel for the concrete shapes in <paramref name="ctx"/>.</summary>
    public abstract Kernel CreateKernel(OpContext ctx);

    /// <summary>True when output 0 is input 0's bytes reinterpreted (Reshape, Flatten, Squeeze, Unsqueeze, Identity): no kernel runs.</summary>
    public virtual bool IsView => false;

    /// <summary>Index of an input whose buffer output 0 may overwrite when that input dies at this node (same byte size); -1 if none.</summary>
    public virtual int InPlaceInput => -1;

    /// <summary>Multiply-accumulates one run of this node performs (for inspect); 0 for ops that do no arithmetic worth counting.</summary>
    public virtual long CountMacs(OpContext ctx) => 0;

    /// <summary>False for ops that must not be evaluated at plan time even when all inputs are constant (random generators).</summary>
    public virtual bool Foldable => true;
}
