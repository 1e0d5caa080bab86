using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Kernels.Elementwise;

namespace EdgeNet.Ops.Cast;

/// <summary>Cast (attribute "to") and CastLike (type of input 1) between all numeric types and bool.</summary>
public sealed class CastOp(string opType) : OpDefinition
{
    public override string OpType => opType;

    public override void Infer(OpContext ctx)
    {
        DataType to;
        if (opType == "CastLike") to = ctx.InputType(1);
        else
        {
            long code = ctx.Int("to", 0);
            to = (DataType)code;
            if (code is <= 0 or > 13 || !to.IsSupported())
                throw UnsupportedOperatorException.For(ctx.Node, $"cast to element type #{code} is not supported");
        }
        ctx.SetOutput(0, to, ctx.InputShape(0));
    }

    public override Kernel CreateKernel(OpContext ctx) => new CastKernel(ctx.InputType(0), ctx.OutputType(0));

    private sealed class CastKernel(DataType from, DataType to) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = InputBytes(ctx, 0);
            var y = OutputBytes(ctx, 0);
            if (from == to) { x.CopyTo(y); return; }
            int n = y.Length / to.SizeOf();
            if (from == DataType.Int64 && to is DataType.Int32)
            {
                var s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(x);
                var d = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(y);
                for (int i = 0; i < n; i++) d[i] = (int)s[i];
                return;
            }
            if (TypedFloatCast(x, y, n)) return;
            for (int i = 0; i < n; i++) ElementIO.Write(y, to, i, ElementIO.Read(x, from, i));
        }
    
        /// <summary>
        /// Typed loops for the common float32 casts, with the reference's exact semantics (it goes through double:
        /// int64 → double → float rounds twice, float → integer truncates and saturates, float → bool is v ≠ 0).
        /// </summary>
        private bool TypedFloatCast(ReadOnlySpan<byte> x, Span<byte> y, int n)
        {
            if (from == DataType.Float32)
            {
                var s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(x)[..n];
                switch (to)
                {
                    case DataType.Int64: { var d = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(y); for (int i = 0; i < n; i++) d[i] = (long)(double)s[i]; return true; }
                    case DataType.Int32: { var d = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(y); for (int i = 0; i < n; i++) d[i] = (int)(double)s[i]; return true; }
                    case DataType.Bool: for (int i = 0; i < n; i++) y[i] = s[i] != 0 ? (byte)1 : (byte)0; return true;
                    default: return false;
                }
            }
            if (to != DataType.Float32) return false;
            var f = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(y)[..n];
            switch (from)
            {
                case DataType.Int64: { var s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(x); for (int i = 0; i < n; i++) f[i] = (float)(double)s[i]; return true; }
                case DataType.Int32: { var s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(x); for (int i = 0; i < n; i++) f[i] = s[i]; return true; }
                case DataType.UInt8 or DataType.Bool: for (int i = 0; i < n; i++) f[i] = x[i]; return true;
                default: return false;
            }
        }
    }
}
