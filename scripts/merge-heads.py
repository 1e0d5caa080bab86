#!/usr/bin/env python3
"""Issue 5, criterion 3: averages several fine-tuned heads into one ONNX model (an ensemble).

  merge-heads.py OUT.onnx HEAD1.onnx HEAD2.onnx [...]

Each HEAD is a model exported by `edgenet export-onnx` from heads trained with `finetune` on the same data and
classes (different seeds): one input of the same name and shape, one output of the same shape. OUT feeds the
input to every head and outputs the element-wise mean of their outputs (ONNX Mean), with the first head's metadata
(class names, detect settings), so `edgenet evaluate --detect` and `convert` take it like any fine-tuned head.
"""
import sys

import onnx
from onnx import helper


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    out, paths = argv[1], argv[2:]
    heads = [onnx.load(p) for p in paths]
    first = heads[0].graph
    nodes, inits, outputs = [], [], []
    for i, (path, head) in enumerate(zip(paths, heads)):
        g = head.graph
        if len(g.input) != 1 or len(g.output) != 1:
            sys.exit(f"{path}: needs exactly one input and one output")
        if g.input[0].type != first.input[0].type or g.output[0].type != first.output[0].type:
            sys.exit(f"{path}: its input or output type/shape differs from {paths[0]}'s")
        if dict((p.key, p.value) for p in head.metadata_props).get("edgenet.classes") != \
                dict((p.key, p.value) for p in heads[0].metadata_props).get("edgenet.classes"):
            sys.exit(f"{path}: its classes differ from {paths[0]}'s")
        # the input becomes the first head's, every other name gets the head's prefix ("" = an omitted input)
        rename = lambda n: first.input[0].name if n == g.input[0].name else n and f"h{i}_{n}"
        for t in g.initializer:
            t = onnx.TensorProto.FromString(t.SerializeToString())
            t.name = rename(t.name)
            inits.append(t)
        for n in g.node:
            m = onnx.NodeProto.FromString(n.SerializeToString())
            m.name = f"h{i}_{n.name or f'node{len(nodes)}'}"
            del m.input[:]
            m.input.extend(rename(x) for x in n.input)
            del m.output[:]
            m.output.extend(rename(x) for x in n.output)
            nodes.append(m)
        outputs.append(rename(g.output[0].name))
    nodes.append(helper.make_node("Mean", outputs, [first.output[0].name], name="ensemble_mean"))
    graph = helper.make_graph(nodes, f"mean of {len(heads)} heads", [first.input[0]], [first.output[0]], inits)
    model = helper.make_model(graph, opset_imports=heads[0].opset_import, producer_name="edgenet merge-heads.py")
    model.ir_version = heads[0].ir_version
    for p in heads[0].metadata_props:
        model.metadata_props.add(key=p.key, value=p.value)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(f"{out}: mean of {len(heads)} heads, {len(nodes)} nodes")


if __name__ == "__main__":
    main(sys.argv)
