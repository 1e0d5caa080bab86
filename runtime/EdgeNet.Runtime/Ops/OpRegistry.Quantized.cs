using EdgeNet.Ops.Quantized;

namespace EdgeNet.Ops;

public static partial class OpRegistry
{
    static partial void RegisterQuantized(Action<OpDefinition> add)
    {
        add(new QuantizeLinearOp());
        add(new DequantizeLinearOp());
        add(new DynamicQuantizeLinearOp());
        add(new QLinearConvOp(linear: true));
        add(new QLinearConvOp(linear: false));
        add(new QLinearConvOp(linear: true, dequantize: true));
        add(new QLinearMatMulOp(QMatMulKind.QLinearMatMul));
        add(new QLinearMatMulOp(QMatMulKind.MatMulInteger));
        add(new QLinearMatMulOp(QMatMulKind.QGemm));
        add(new QAddOp());
        add(new QLookupOp());
        add(new QGlobalAveragePoolOp());
        add(new QMaxPoolOp());
    }
}
