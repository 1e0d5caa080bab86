using EdgeNet.Ops.Conv;
using EdgeNet.Ops.Gemm;
using EdgeNet.Ops.Loss;
using EdgeNet.Ops.Normalization;
using EdgeNet.Ops.Pool;

namespace EdgeNet.Ops;

public static partial class OpRegistry
{
    static partial void RegisterNn(Action<OpDefinition> add)
    {
        add(new ConvOp());
        add(new ConvTranspose.ConvTransposeOp()); add(new Resize.ResizeOp("Resize")); add(new Resize.ResizeOp("Upsample"));
        add(new GemmOp());
        add(new MatMulOp());
        add(new PoolOp("MaxPool", max: true));
        add(new PoolOp("AveragePool", max: false));
        add(new GlobalPoolOp("GlobalAveragePool", max: false));
        add(new GlobalPoolOp("GlobalMaxPool", max: true));
        add(new BatchNormalizationOp("BatchNormalization"));
        add(new BatchNormalizationOp("InstanceNormalization"));
        add(new NegativeLogLikelihoodLossOp("NegativeLogLikelihoodLoss", softmaxFirst: false));
        add(new NegativeLogLikelihoodLossOp("SoftmaxCrossEntropyLoss", softmaxFirst: true));
    }
}
