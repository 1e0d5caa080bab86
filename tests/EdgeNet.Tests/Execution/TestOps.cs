using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Ops;

namespace EdgeNet.Tests.Execution;

/// <summary>Test-only ops (domain "test") so the executor can be checked independently of the real op library.</summary>
internal sealed class AddOneOp : OpDefinition
{
    public override string OpType => "AddOne";
    public override string Domain => "test";
    public override int InPlaceInput => 0;
    public override void Infer(OpContext ctx) => ctx.SetOutput(0, DataType.Float32, ctx.InputShape(0));
    public override Kernel CreateKernel(OpContext ctx) => new AddOneKernel();

    private sealed class AddOneKernel : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var x = Input<float>(ctx, 0);
            var y = Output<float>(ctx, 0);
            for (int i = 0; i < y.Length; i++) y[i] = x[i] + 1;
        }
    }
}

internal sealed class SumOp : OpDefinition
{
    public override string OpType => "Sum2";
    public override string Domain => "test";
    public override void Infer(OpContext ctx) => ctx.SetOutput(0, DataType.Float32, ctx.InputShape(0));
    public override Kernel CreateKernel(OpContext ctx) => new SumKernel();

    private sealed class SumKernel : Kernel
    {
        public override int ScratchBytes => 256;
        public override void Execute(ExecutionContext ctx)
        {
            var a = Input<float>(ctx, 0);
            var b = Input<float>(ctx, 1);
            var y = Output<float>(ctx, 0);
            Scratch.Fill(0xFF); // scratch must never alias live buffers
            for (int i = 0; i < y.Length; i++) y[i] = a[i] + b[i];
        }
    }
}

internal sealed class FlattenViewOp : OpDefinition
{
    public override string OpType => "View";
    public override string Domain => "test";
    public override bool IsView => true;
    public override void Infer(OpContext ctx) => ctx.SetOutput(0, ctx.InputType(0), [Shapes.Count(ctx.InputShape(0))]);
    public override Kernel CreateKernel(OpContext ctx) => throw new InvalidOperationException("views have no kernel");
}

internal sealed class TestOpsScope : IDisposable
{
    public TestOpsScope()
    {
        OpRegistry.RegisterForTests(new AddOneOp());
        OpRegistry.RegisterForTests(new SumOp());
        OpRegistry.RegisterForTests(new FlattenViewOp());
    }
    public void Dispose() { }
}
