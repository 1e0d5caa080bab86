using EdgeNet.Ops.Conv;
using EdgeNet.Ops.ConvTranspose;
using EdgeNet.Ops.Gemm;
using EdgeNet.Ops.Normalization;
using EdgeNet.Ops.Pool;
using EdgeNet.Ops.Resize;

namespace EdgeNet.Ops;

public static partial class OpRegistry
{
    static partial void RegisterNn(Action<OpDefinition> add)
    {
        add(new ConvOp());
        add(new ConvTransposeOp());
        add(new ResizeOp("Resize")); add(new ResizeOp("Upsample"));
        add(new GemmOp());
        add(new MatMulOp());
        add(new PoolOp("MaxPool", max: true));
        add(new PoolOp("AveragePool", max: false));
        add(new GlobalPoolOp("GlobalAveragePool", max: false));
        add(new GlobalPoolOp("GlobalMaxPool", max: true));
        add(new BatchNormalizationOp("BatchNormalization"));
        add(new BatchNormalizationOp("InstanceNormalization"));
    }
}
