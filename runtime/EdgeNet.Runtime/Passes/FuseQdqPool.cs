using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>
/// DequantizeLinear(x_q) → GlobalAveragePool → QuantizeLinear ⇒ edgenet.QGlobalAveragePool.
/// <para>
/// Math: mean_p s_x(x_q − z_x) = s_x·(Σ_p x_q − P·z_x) / P, so the op sums the plane's P integers exactly, then
/// y = round((float)S · s_x / P / s_y) + z_y. The float chain sums P rounded products in float, so the two can differ
/// by one quantization step when the mean lies within float rounding of a rounding boundary.
/// </para>
/// (MaxPool needs no op of its own: it commutes with the monotonic DequantizeLinear, see <see cref="FuseQdqPassThrough"/>.)
/// </summary>
public sealed class FuseQdqPool : IGraphPass
{
    public string Name => "FuseQdqPool";

    public bool Run(Model model)
    {
        var g = model.Graph;
        foreach (var pool in g.Nodes)
        {
            if (!GraphEdits.Is(pool, "GlobalAveragePool")) continue;
            if (FuseQdqPatterns.Dequantized(g, pool.Inputs[0], perTensor: true) is not { } x) continue;
            if (FuseQdqPatterns.QuantizedBy(g, pool.Outputs[0]) is not { } q) continue;
            var fused = new Node { OpType = "QGlobalAveragePool", Domain = "edgenet", Name = pool.Name, OpsetVersion = 1 };
            fused.Inputs.AddRange([
                x.Data, x.Scale, FuseQdqPatterns.ZeroPoint(g, x.ZeroPoint, x.Type, pool.Name + "_x"),
                q.Scale, FuseQdqPatterns.ZeroPoint(g, q.ZeroPoint, q.Type, pool.Name + "_y")]);
            GraphEdits.ReplaceChain(g, [pool, q.Node], fused);
            return true;
        }
        return false;
    }
}
