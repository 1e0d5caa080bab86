using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgeNet.Kernels.Einsum;

/// <summary>
/// A prepared einsum: every distinct subscript (letters, and one label per broadcast "..." dim) is a label with a
/// size; each operand reaches label l with stride OperandStrides[k][l] (0 where it lacks the label, and the sum of
/// both strides for a repeated label, which is how "ii" walks a diagonal); the output likewise with OutputStrides
/// (0 for labels that are summed away).
/// </summary>
public sealed class EinsumPlan
{
    public required int[] LabelSizes { get; init; }
    public required int[][] OperandStrides { get; init; }
    public required int[] OutputStrides { get; init; }
}

/// <summary>The index-enumeration reference: y[out] = Σ over every label assignment of Π operands[k][offset_k].</summary>
public static class EinsumReference
{
    /// <summary>
    /// Visits every assignment of all labels (row-major over <see cref="EinsumPlan.LabelSizes"/>) and accumulates the
    /// product of the addressed operand elements into the addressed output element. counter needs one int per label.
    /// Operands beyond the second are re-read from their buffers each step (spans cannot live in an array).
    /// </summary>
    public static void Run<T>(EinsumPlan plan, ReadOnlySpan<Memory<byte>> operandBuffers, Span<T> y, Span<int> counter)
        where T : unmanaged, INumber<T>
    {
        int operands = operandBuffers.Length;
        ReadOnlySpan<T> a = MemoryMarshal.Cast<byte, T>(operandBuffers[0].Span);
        ReadOnlySpan<T> b = operands > 1 ? MemoryMarshal.Cast<byte, T>(operandBuffers[1].Span) : default;
        y.Clear();
        var sizes = plan.LabelSizes;
        long total = 1;
        foreach (int s in sizes) total *= s;
        if (total == 0) return;
        counter.Clear();
        var strides = plan.OperandStrides;
        var outStrides = plan.OutputStrides;
        for (long step = 0; step < total; step++)
        {
            int outAt = 0;
            for (int l = 0; l < sizes.Length; l++) outAt += counter[l] * outStrides[l];
            T product = a[Offset(strides[0], counter)];
            if (operands > 1) product *= b[Offset(strides[1], counter)];
            for (int k = 2; k < operands; k++) product *= MemoryMarshal.Cast<byte, T>(operandBuffers[k].Span)[Offset(strides[k], counter)];
            y[outAt] += product;
            for (int l = sizes.Length - 1; l >= 0; l--)
            {
                if (++counter[l] < sizes[l]) break;
                counter[l] = 0;
            }
        }
    }

    private static int Offset(int[] strides, Span<int> counter)
    {
        int at = 0;
        for (int l = 0; l < strides.Length; l++) at += counter[l] * strides[l];
        return at;
    }
}
