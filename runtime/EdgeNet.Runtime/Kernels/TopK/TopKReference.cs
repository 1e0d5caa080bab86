using System.Numerics;

namespace EdgeNet.Kernels.TopK;

/// <summary>
/// Top-k along the middle axis of an [outer, length, inner] view. Order: by value (descending when largest,
/// ascending otherwise), equal values by lower index first, NaN counted as larger than every number (as numpy sorts).
/// The order is total, so an unstable in-place heap sort over an index scratch gives a deterministic result.
/// </summary>
public static class TopKReference
{
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> values, Span<long> indices, Span<int> scratch,
        int outer, int length, int inner, int k, bool largest) where T : unmanaged, INumber<T>
    {
        var order = scratch[..length];
        for (int o = 0; o < outer; o++)
            for (int n = 0; n < inner; n++)
            {
                var row = new Row<T>(x, o * length * inner + n, inner, largest);
                for (int i = 0; i < length; i++) order[i] = i;
                HeapSort(order, row);
                for (int i = 0; i < k; i++)
                {
                    int at = (o * k + i) * inner + n;
                    values[at] = row[order[i]];
                    indices[at] = order[i];
                }
            }
    }

    private readonly ref struct Row<T>(ReadOnlySpan<T> x, int start, int stride, bool largest) where T : unmanaged, INumber<T>
    {
        private readonly ReadOnlySpan<T> _x = x;

        public T this[int i] => _x[start + i * stride];

        /// <summary>True when element a must come before element b in the output.</summary>
        public bool Before(int a, int b)
        {
            T va = this[a], vb = this[b];
            bool nanA = T.IsNaN(va), nanB = T.IsNaN(vb);
            if (nanA || nanB)
            {
                if (nanA && nanB) return a < b;
                return largest ? nanA : nanB;
            }
            if (va != vb) return largest ? va > vb : va < vb;
            return a < b;
        }
    }

    /// <summary>Sorts so that order[0] comes first; a max-heap on "comes later" keeps the latest element at the root.</summary>
    private static void HeapSort<T>(Span<int> order, Row<T> row) where T : unmanaged, INumber<T>
    {
        int n = order.Length;
        for (int i = n / 2 - 1; i >= 0; i--) SiftDown(order, i, n, row);
        for (int end = n - 1; end > 0; end--)
        {
            (order[0], order[end]) = (order[end], order[0]);
            SiftDown(order, 0, end, row);
        }
    }

    private static void SiftDown<T>(Span<int> order, int root, int n, Row<T> row) where T : unmanaged, INumber<T>
    {
        while (true)
        {
            int child = 2 * root + 1;
            if (child >= n) return;
            if (child + 1 < n && row.Before(order[child], order[child + 1])) child++;
            if (!row.Before(order[root], order[child])) return;
            (order[root], order[child]) = (order[child], order[root]);
            root = child;
        }
    }
}
