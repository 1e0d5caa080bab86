using EdgeNet.IR;
using EdgeNet.Ops;

namespace EdgeNet.Execution;

/// <summary>
/// An If whose condition is only known at run time (e.g. openWakeWord's verifier gate). Made by the PlanBuilder, not
/// the registry: both branches are planned ahead; Execute binds the outer values a branch reads, runs it, and copies
/// its outputs out. Nothing is allocated per run.
/// </summary>
internal sealed class RuntimeIfOp(ExecutionPlan thenPlan, ExecutionPlan elsePlan, Value[] captured) : OpDefinition
{
    public override string OpType => "If";
    public override void Infer(OpContext ctx) => throw new InvalidOperationException("facts are set by the PlanBuilder");
    public override Kernel CreateKernel(OpContext ctx) => new IfKernel(Branch.Of(thenPlan, captured), Branch.Of(elsePlan, captured));

    private sealed record Branch(ExecutionPlan Plan, int[] BindingInput)
    {
        /// <summary>For each external binding of the plan, the If step input (1 + index in captured) that feeds it.</summary>
        public static Branch Of(ExecutionPlan plan, Value[] captured) =>
            new(plan, plan.ExternalBindings.Select(b => 1 + Array.IndexOf(captured, b.Source)).ToArray());
    }

    private sealed class IfKernel(Branch thenBranch, Branch elseBranch) : Kernel
    {
        public override void Execute(ExecutionContext ctx)
        {
            var branch = InputBytes(ctx, 0)[0] != 0 ? thenBranch : elseBranch;
            var plan = branch.Plan;
            var bindings = plan.ExternalBindings;
            for (int i = 0; i < bindings.Length; i++)
            {
                var source = ctx.Buffers[InputSlots[branch.BindingInput[i]]];
                int length = plan.Context.Buffers[bindings[i].Slot].Length;
                plan.Context.Buffers[bindings[i].Slot] = length == 0 ? source : source[..length];
            }
            plan.Run();
            for (int i = 0; i < OutputSlots.Length; i++)
                plan.Context.Buffers[plan.OutputSlots[i]].Span.CopyTo(OutputBytes(ctx, i));
        }
    }
}
