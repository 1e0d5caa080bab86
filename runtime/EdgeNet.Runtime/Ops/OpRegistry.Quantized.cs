using EdgeNet.Ops.Quantized;

namespace EdgeNet.Ops;

public static partial class OpRegistry
{
    static partial void RegisterQuantized(Action<OpDefinition> add)
    {
        add(new QuantizeLinearOp());
        add(new DequantizeLinearOp());
        add(new DynamicQuantizeLinearOp());
    }
}
