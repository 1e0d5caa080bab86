using EdgeNet.Kernels.Elementwise;
using EdgeNet.Ops.Cast;
using EdgeNet.Ops.Elementwise;
using EdgeNet.Ops.Normalization;
using EdgeNet.Ops.Reduce;
using EdgeNet.Ops.Softmax;

namespace EdgeNet.Ops;

public static partial class OpRegistry
{
    static partial void RegisterMath(Action<OpDefinition> add)
    {
        add(new ArithmeticOp("Add", ArithmeticKind.Add));
        add(new ArithmeticOp("Sub", ArithmeticKind.Sub));
        add(new ArithmeticOp("Mul", ArithmeticKind.Mul));
        add(new ArithmeticOp("Div", ArithmeticKind.Div));
        add(new ArithmeticOp("Pow", ArithmeticKind.Pow));
        add(new ArithmeticOp("Mod", ArithmeticKind.Mod));
        add(new ArithmeticOp("BitShift", ArithmeticKind.BitShiftLeft));
        add(new ArithmeticOp("PRelu", ArithmeticKind.PRelu));
        add(new VariadicOp("Max", ArithmeticKind.Max));
        add(new VariadicOp("Min", ArithmeticKind.Min));
        add(new VariadicOp("Sum", ArithmeticKind.Add));
        add(new VariadicOp("Mean", ArithmeticKind.Add, mean: true));
        add(new CompareOp("Equal", CompareKind.Equal));
        add(new CompareOp("Greater", CompareKind.Greater));
        add(new CompareOp("Less", CompareKind.Less));
        add(new CompareOp("GreaterOrEqual", CompareKind.GreaterOrEqual));
        add(new CompareOp("LessOrEqual", CompareKind.LessOrEqual));
        add(new LogicalOp("And", LogicalKind.And));
        add(new LogicalOp("Or", LogicalKind.Or));
        add(new LogicalOp("Xor", LogicalKind.Xor));
        add(new PredicateOp("Not"));
        add(new PredicateOp("IsNaN"));
        add(new PredicateOp("IsInf"));
        add(new WhereOp());
        add(new ClipOp());
        add(new GeluOp());
        foreach (var (name, kind) in new (string, UnaryKind)[]
        {
            ("Abs", UnaryKind.Abs), ("Neg", UnaryKind.Neg), ("Sqrt", UnaryKind.Sqrt), ("Exp", UnaryKind.Exp), ("Log", UnaryKind.Log),
            ("Reciprocal", UnaryKind.Reciprocal), ("Floor", UnaryKind.Floor), ("Ceil", UnaryKind.Ceil), ("Round", UnaryKind.Round),
            ("Sign", UnaryKind.Sign), ("Erf", UnaryKind.Erf), ("Sin", UnaryKind.Sin), ("Cos", UnaryKind.Cos), ("Tan", UnaryKind.Tan),
            ("Asin", UnaryKind.Asin), ("Acos", UnaryKind.Acos), ("Atan", UnaryKind.Atan), ("Sinh", UnaryKind.Sinh), ("Cosh", UnaryKind.Cosh),
            ("Asinh", UnaryKind.Asinh), ("Acosh", UnaryKind.Acosh), ("Atanh", UnaryKind.Atanh), ("Relu", UnaryKind.Relu),
            ("LeakyRelu", UnaryKind.LeakyRelu), ("Elu", UnaryKind.Elu), ("Selu", UnaryKind.Selu), ("Celu", UnaryKind.Celu),
            ("Sigmoid", UnaryKind.Sigmoid), ("Tanh", UnaryKind.Tanh), ("HardSigmoid", UnaryKind.HardSigmoid), ("HardSwish", UnaryKind.HardSwish),
            ("Softplus", UnaryKind.Softplus), ("Softsign", UnaryKind.Softsign), ("ThresholdedRelu", UnaryKind.ThresholdedRelu),
            ("Shrink", UnaryKind.Shrink), ("Mish", UnaryKind.Mish),
        })
            add(new UnaryOp(name, kind));
        add(new UnaryOp("Swish", UnaryKind.Swish, "edgenet"));
        add(new SoftmaxOp("Softmax", SoftmaxKind.Softmax));
        add(new SoftmaxOp("LogSoftmax", SoftmaxKind.LogSoftmax));
        add(new SoftmaxOp("Hardmax", SoftmaxKind.Hardmax));
        foreach (var (name, kind) in new (string, ReduceKind)[]
        {
            ("ReduceMean", ReduceKind.Mean), ("ReduceMax", ReduceKind.Max), ("ReduceMin", ReduceKind.Min), ("ReduceSum", ReduceKind.Sum),
            ("ReduceProd", ReduceKind.Prod), ("ReduceL1", ReduceKind.L1), ("ReduceL2", ReduceKind.L2), ("ReduceLogSum", ReduceKind.LogSum),
            ("ReduceLogSumExp", ReduceKind.LogSumExp), ("ReduceSumSquare", ReduceKind.SumSquare),
        })
            add(new ReduceOp(name, kind));
        add(new ArgOp("ArgMax", max: true));
        add(new ArgOp("ArgMin", max: false));
        add(new CastOp("Cast"));
        add(new CastOp("CastLike"));
        add(new LayerNormalizationOp());
        add(new CumSum.CumSumOp());
        add(new TopK.TopKOp());
        add(new Einsum.EinsumOp());
        add(new LrnOp());
        add(new MvnOp());
    }
}
