using System.Numerics;
using System.Runtime.InteropServices;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Einsum;

namespace EdgeNet.Ops.Einsum;

/// <summary>
/// Einsum (opset 12): y[out] = Σ over the labels missing from the output of Π_k operand_k[its labels], following
/// the equation "term,term,...->out" (spaces ignored). A letter repeated within one term takes that term's
/// diagonal; "..." stands for the leading dims an operand has beyond its letters (right-aligned across operands,
/// size-1 dims broadcast). Without "->" the output is "..." followed by the letters used exactly once, in ASCII order.
/// Any number of operands; the reference enumerates every label assignment (see <see cref="EinsumReference"/>).
/// </summary>
public sealed class EinsumOp : OpDefinition
{
    public override string OpType => "Einsum";

    /// <summary>Label assignments the index-enumeration reference will visit per run (about a minute of scalar work).</summary>
    public const double MaxSteps = 1L << 36;

    public override void Infer(OpContext ctx) => ctx.SetOutput(0, ctx.InputType(0), Prepare(ctx).OutDims);

    public override Kernel CreateKernel(OpContext ctx)
    {
        var (plan, _) = Prepare(ctx);
        return Numeric.Create(ctx.InputType(0), new Factory(plan, ctx.InputCount), ctx.Node);
    }

    /// <summary>
    /// Multiply-adds: one per assignment of all labels and operand beyond the first. (Counted with the summed labels
    /// too, which is what the reference does; a factored evaluation would do fewer.)
    /// </summary>
    public override long CountMacs(OpContext ctx)
    {
        long n = 1;
        foreach (int s in Prepare(ctx).Plan.LabelSizes) n *= s;
        return n * Math.Max(1, ctx.InputCount - 1);
    }

    private static (EinsumPlan Plan, int[] OutDims) Prepare(OpContext ctx)
    {
        string equation = ctx.String("equation", "").Replace(" ", "", StringComparison.Ordinal);
        if (equation.Length == 0) throw ctx.Error("attribute 'equation' is required");
        for (int i = 1; i < ctx.InputCount; i++)
            if (ctx.InputType(i) != ctx.InputType(0)) throw ctx.Error($"input {i} has type {ctx.InputType(i)}, input 0 has {ctx.InputType(0)}");

        int arrow = equation.IndexOf("->", StringComparison.Ordinal);
        string lhs = arrow < 0 ? equation : equation[..arrow];
        string? rhs = arrow < 0 ? null : equation[(arrow + 2)..];
        var terms = lhs.Split(',');
        if (terms.Length != ctx.InputCount)
            throw ctx.Error($"equation '{equation}' has {terms.Length} operand terms but the node has {ctx.InputCount} inputs");

        // Parse each term into letters with the position of its ellipsis (-1 if none).
        var letters = new string[terms.Length];
        var ellipsisAt = new int[terms.Length];
        var ellipsisRank = new int[terms.Length];
        int maxEllipsis = 0;
        for (int k = 0; k < terms.Length; k++)
        {
            (letters[k], ellipsisAt[k]) = ParseTerm(ctx, terms[k]);
            int rank = ctx.InputRank(k);
            int extra = rank - letters[k].Length;
            if (ellipsisAt[k] < 0 ? extra != 0 : extra < 0)
                throw ctx.Error($"term '{terms[k]}' does not match input {k} of rank {rank}");
            ellipsisRank[k] = ellipsisAt[k] < 0 ? 0 : extra;
            maxEllipsis = Math.Max(maxEllipsis, ellipsisRank[k]);
        }

        // Labels: ellipsis dims first (0..maxEllipsis-1), then letters in order of first appearance.
        var letterLabel = new Dictionary<char, int>();
        var letterCount = new Dictionary<char, int>();
        foreach (string l in letters)
            foreach (char c in l)
            {
                if (!letterLabel.ContainsKey(c)) letterLabel[c] = maxEllipsis + letterLabel.Count;
                letterCount[c] = letterCount.GetValueOrDefault(c) + 1;
            }
        int labels = maxEllipsis + letterLabel.Count;
        var sizes = new int[labels];
        var fromEllipsis = new bool[labels];
        for (int l = 0; l < maxEllipsis; l++) { sizes[l] = 1; fromEllipsis[l] = true; }
        for (int l = maxEllipsis; l < labels; l++) sizes[l] = -1;

        var operandStrides = new int[terms.Length][];
        for (int k = 0; k < terms.Length; k++)
        {
            var dims = ctx.InputShape(k);
            var dataStrides = Shapes.Strides(dims);
            var strides = new int[labels];
            for (int d = 0; d < dims.Length; d++)
            {
                int label = LabelOfDim(letters[k], ellipsisAt[k], ellipsisRank[k], maxEllipsis, d, letterLabel);
                int size = dims[d];
                if (fromEllipsis[label])
                {
                    if (size == 1) continue; // broadcasts: stride stays 0
                    if (sizes[label] != 1 && sizes[label] != size)
                        throw ctx.Error($"broadcast dims of '...' do not match: {sizes[label]} vs {size} (input {k})");
                    sizes[label] = size;
                }
                else if (sizes[label] < 0) sizes[label] = size;
                else if (sizes[label] != size)
                    throw ctx.Error($"subscript '{LetterOf(letterLabel, label)}' has size {sizes[label]} and {size} (input {k})");
                strides[label] += dataStrides[d];
            }
            operandStrides[k] = strides;
        }

        // The reference visits every label assignment; refuse plans it could not finish rather than hang.
        double steps = 1;
        foreach (int size in sizes) steps *= size;
        if (steps > MaxSteps)
            throw UnsupportedOperatorException.For(ctx.Node, $"equation '{equation}' needs {steps:G3} multiply-adds, more than the reference einsum's limit of {MaxSteps:G3}");

        // Output labels.
        var outLabels = new List<int>();
        if (rhs is null)
        {
            for (int l = 0; l < maxEllipsis; l++) outLabels.Add(l);
            foreach (char c in letterLabel.Keys.Where(c => letterCount[c] == 1).Order()) outLabels.Add(letterLabel[c]);
        }
        else
        {
            var (outLetters, outEllipsis) = ParseTerm(ctx, rhs);
            for (int i = 0; i <= outLetters.Length; i++)
            {
                if (i == outEllipsis) for (int l = 0; l < maxEllipsis; l++) outLabels.Add(l);
                if (i == outLetters.Length) break;
                char c = outLetters[i];
                if (!letterLabel.TryGetValue(c, out int label)) throw ctx.Error($"output subscript '{c}' does not appear in any input");
                if (outLabels.Contains(label)) throw ctx.Error($"output subscript '{c}' appears twice");
                outLabels.Add(label);
            }
        }
        var outDims = outLabels.Select(l => sizes[l]).ToArray();
        var outDataStrides = Shapes.Strides(outDims);
        var outStrides = new int[labels];
        for (int i = 0; i < outLabels.Count; i++) outStrides[outLabels[i]] = outDataStrides[i];
        return (new EinsumPlan { LabelSizes = sizes, OperandStrides = operandStrides, OutputStrides = outStrides }, outDims);
    }

    /// <summary>Letters of one term and the letter position where "..." stands (-1 if absent).</summary>
    private static (string Letters, int EllipsisAt) ParseTerm(OpContext ctx, string term)
    {
        int at = term.IndexOf("...", StringComparison.Ordinal);
        string letters = at < 0 ? term : term.Remove(at, 3);
        foreach (char c in letters)
            if (!char.IsAsciiLetter(c)) throw ctx.Error($"term '{term}' contains '{c}'; only letters and one '...' are allowed");
        return (letters, at);
    }

    /// <summary>The label of dim d of an operand whose term has "..." at letter position ellipsisAt covering ellipsisRank dims.</summary>
    private static int LabelOfDim(string letters, int ellipsisAt, int ellipsisRank, int maxEllipsis, int d, Dictionary<char, int> letterLabel)
    {
        if (ellipsisAt < 0 || d < ellipsisAt) return letterLabel[letters[d]];
        if (d < ellipsisAt + ellipsisRank) return maxEllipsis - ellipsisRank + (d - ellipsisAt);
        return letterLabel[letters[d - ellipsisRank]];
    }

    private static char LetterOf(Dictionary<char, int> letterLabel, int label)
    {
        foreach (var (c, l) in letterLabel) if (l == label) return c;
        return '?';
    }

    private readonly struct Factory(EinsumPlan plan, int operands) : INumericKernelFactory
    {
        public Kernel Create<T>() where T : unmanaged, INumber<T> => new EinsumKernel<T>(plan, operands);
    }

    private sealed class EinsumKernel<T>(EinsumPlan plan, int operands) : Kernel where T : unmanaged, INumber<T>
    {
        // Filled with the input buffers on each run (no allocation); read by the reference.
        private readonly Memory<byte>[] _operands = new Memory<byte>[operands];

        public override int ScratchBytes => plan.LabelSizes.Length * sizeof(int);

        public override void Execute(ExecutionContext ctx)
        {
            for (int k = 0; k < _operands.Length; k++) _operands[k] = ctx.Buffers[InputSlots[k]];
            var counter = MemoryMarshal.Cast<byte, int>(Scratch)[..plan.LabelSizes.Length];
            EinsumReference.Run(plan, _operands, Output<T>(ctx, 0), counter);
        }
    }
}
