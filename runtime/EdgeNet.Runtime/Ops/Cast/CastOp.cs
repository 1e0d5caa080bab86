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
            for (int i = 0; i < n; i++) ElementIO.Write(y, to, i, ElementIO.Read(x, from, i));
        }
    }
}
