using EdgeNet.IR;

namespace EdgeNet.Passes;

/// <summary>One graph rewrite. Run returns true when it changed the graph; passes keep input/output names intact.</summary>
public interface IGraphPass
{
    string Name { get; }
    bool Run(Model model);
}
