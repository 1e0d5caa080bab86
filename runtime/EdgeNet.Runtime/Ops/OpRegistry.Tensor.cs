using EdgeNet.Ops.Concat;
using EdgeNet.Ops.Expand;
using EdgeNet.Ops.Gather;
using EdgeNet.Ops.Pad;
using EdgeNet.Ops.Shape;
using EdgeNet.Ops.Slice;
using EdgeNet.Ops.Transpose;

namespace EdgeNet.Ops;

public static partial class OpRegistry
{
    static partial void RegisterTensor(Action<OpDefinition> add)
    {
        add(new ReshapeOp());
        add(new FlattenOp());
        add(new SqueezeOp());
        add(new UnsqueezeOp());
        add(new IdentityOp("Identity"));
        add(new IdentityOp("Dropout"));
        add(new ShapeOp("Shape"));
        add(new ShapeOp("Size"));
        add(new TransposeOp());
        add(new SliceOp());
        add(new ConcatOp());
        add(new SplitOp());
        add(new GatherOp());
        add(new ExpandOp("Expand"));
        add(new ExpandOp("Tile"));
        add(new ConstantOfShapeOp());
        add(new RangeOp());
        add(new PadOp());
        add(new Trilu.TriluOp());
        add(new GatherElementsOp());
        add(new GatherNDOp());
        add(new Scatter.ScatterElementsOp("ScatterElements"));
        add(new Scatter.ScatterElementsOp("Scatter"));
        add(new Scatter.ScatterNDOp());
        add(new OneHot.OneHotOp());
        add(new OneHot.EyeLikeOp());
        add(new NonZero.NonZeroOp());
        add(new ReverseSequence.ReverseSequenceOp());
        add(new DepthToSpace.DepthToSpaceOp());
        add(new DepthToSpace.SpaceToDepthOp());
    }
}
