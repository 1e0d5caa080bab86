using EdgeNet.Ops.Rnn;

namespace EdgeNet.Ops;

public static partial class OpRegistry
{
    static partial void RegisterRnn(Action<OpDefinition> add)
    {
        add(new LstmOp());
        add(new GruOp());
        add(new RnnOp());
        add(new QLstm.QLstmOp());
        add(new QGru.QGruOp());
    }
}
