#!/usr/bin/python3
"""Makes QDQ-quantized test models (the format ONNX Runtime's static quantizer writes) without onnxruntime.

    make-qdq-models.py OUT_DIR  ->  OUT_DIR/<name>/model.onnx

The float models are the seeded architectures of make-test-models.py (same seed, same weights), exported with
BatchNormalization folded into Conv (as a quantizer sees them). Then:
  * calibration: every float tensor's min/max over a few seeded random inputs, computed by a small torch
    interpreter of the exported graph (Conv, Gemm, Relu, Clip, Add, MaxPool, pools, Flatten, Reshape, LSTM);
  * activations: uint8, asymmetric, per tensor: scale = (max(0,hi) - min(0,lo)) / 255, zero point
    round(-min(0,lo) / scale); QuantizeLinear -> DequantizeLinear after every tensor a quantized op produces (and
    on the graph input); none between an op and the Relu/Clip that alone reads it; MaxPool / Flatten / Reshape reuse
    their input's parameters;
  * weights: int8 per output channel, symmetric in [-127, 127], zero point 0, behind DequantizeLinear(axis 0);
  * bias: int32 with scale x_scale * w_scale[c], zero point 0, behind DequantizeLinear(axis 0);
  * the logits get a QuantizeLinear -> DequantizeLinear too, so the output has a quantization step.
LSTM is not quantized (ONNX Runtime's QDQ quantizer does not quantize LSTM either): lstm_kws keeps a float LSTM and
quantizes its classifier.
"""
import importlib.util
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper, TensorProto

OPSET = 13
CALIBRATION_SEED = 7
CALIBRATION_INPUTS = 8

_spec = importlib.util.spec_from_file_location("make_test_models", os.path.join(os.path.dirname(__file__), "make-test-models.py"))
mtm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mtm)

NAMES = ["mobilenet_v2", "resnet18", "ds_cnn", "lstm_kws"]
QUANTIZED = {"Conv", "Gemm", "Relu", "Clip", "Add", "MaxPool", "GlobalAveragePool", "AveragePool", "Flatten", "Reshape"}
SAME_PARAMS = {"MaxPool", "Flatten", "Reshape"}


def export_float(name, build, shape, path):
    torch.manual_seed(mtm.SEED)
    model = build()
    mtm.randomize_batch_norm(model)
    model.eval()
    x = torch.randn(*shape)
    torch.onnx.export(model, (x,), path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                      training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    return onnx.load(path)


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def run(graph, inits, feeds):
    """Executes the float graph with torch ops; returns every tensor by name."""
    env = {k: torch.from_numpy(v) for k, v in inits.items()}
    env.update({k: torch.from_numpy(v) for k, v in feeds.items()})
    for n in graph.node:
        i = [env[x] if x else None for x in n.input]
        op = n.op_type
        if op == "Conv":
            pads = attr(n, "pads", [0, 0, 0, 0])
            x = F.pad(i[0], [pads[1], pads[3], pads[0], pads[2]])
            y = F.conv2d(x, i[1], i[2] if len(i) > 2 else None, attr(n, "strides", [1, 1]), 0, attr(n, "dilations", [1, 1]), attr(n, "group", 1))
        elif op == "Gemm":
            a = i[0].T if attr(n, "transA", 0) else i[0]
            b = i[1].T if attr(n, "transB", 0) else i[1]
            y = attr(n, "alpha", 1.0) * (a @ b) + (attr(n, "beta", 1.0) * i[2] if len(i) > 2 else 0)
        elif op == "Relu":
            y = torch.relu(i[0])
        elif op == "Clip":
            y = torch.clamp(i[0], float(i[1]) if len(i) > 1 and i[1] is not None else None, float(i[2]) if len(i) > 2 and i[2] is not None else None)
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "MaxPool":
            pads = attr(n, "pads", [0, 0, 0, 0])
            x = F.pad(i[0], [pads[1], pads[3], pads[0], pads[2]], value=-float("inf"))
            y = F.max_pool2d(x, attr(n, "kernel_shape"), attr(n, "strides"), 0, ceil_mode=bool(attr(n, "ceil_mode", 0)))
        elif op == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif op == "Flatten":
            y = torch.flatten(i[0], attr(n, "axis", 1))
        elif op == "Reshape":
            y = i[0].reshape([int(d) for d in i[1]])
        elif op in ("Shape", "Gather", "Unsqueeze", "Concat", "Slice", "Squeeze", "Constant", "Transpose", "LSTM", "Expand"):
            y = run_misc(n, i)
        else:
            raise SystemExit(f"calibration interpreter: op {op} not supported")
        outs = y if isinstance(y, tuple) else (y,)
        for name, value in zip(n.output, outs):
            if name:
                env[name] = value
    return env


def run_misc(n, i):
    op = n.op_type
    if op == "Constant":
        return torch.from_numpy(numpy_helper.to_array(attr(n, "value")).copy())
    if op == "Shape":
        return torch.tensor(i[0].shape, dtype=torch.int64)
    if op == "Gather":
        axis = attr(n, "axis", 0)
        index = i[1].reshape(-1) % i[0].shape[axis]
        return torch.index_select(i[0], axis, index).reshape(list(i[0].shape[:attr(n, "axis", 0)]) + list(i[1].shape) + list(i[0].shape[attr(n, "axis", 0) + 1:]))
    if op == "Unsqueeze":
        y = i[0]
        for a in sorted(int(v) for v in i[1]):
            y = y.unsqueeze(a)
        return y
    if op == "Squeeze":
        y = i[0]
        for a in sorted((int(v) for v in i[1]), reverse=True):
            y = y.squeeze(a)
        return y
    if op == "Concat":
        return torch.cat(i, attr(n, "axis"))
    if op == "Transpose":
        return i[0].permute(attr(n, "perm"))
    if op == "Slice":
        y = i[0]
        axes = [int(a) for a in i[3]] if len(i) > 3 and i[3] is not None else list(range(len(i[1])))
        steps = [int(s) for s in i[4]] if len(i) > 4 and i[4] is not None else [1] * len(axes)
        for s, e, a, st in zip(i[1], i[2], axes, steps):
            if st != 1:
                raise SystemExit("calibration interpreter: Slice steps other than 1")
            size = y.shape[a]
            s, e = int(s), int(e)
            s = max(0, min(size, s + size if s < 0 else s))
            e = max(0, min(size, e + size if e < 0 else e))
            y = y.narrow(a, s, max(0, e - s))
        return y
    if op == "Expand":
        return torch.broadcast_to(i[0], torch.broadcast_shapes(tuple(i[0].shape), tuple(int(d) for d in i[1])))
    if op == "LSTM":
        return run_lstm(n, i)
    raise SystemExit(f"calibration interpreter: op {op} not supported")


def run_lstm(n, i):
    """ONNX LSTM, forward only, default activations, gate order i o f c, layout 0."""
    if attr(n, "direction", b"forward") not in (b"forward", "forward"):
        raise SystemExit("calibration interpreter: only forward LSTM")
    x, w, r = i[0], i[1][0], i[2][0]
    hidden = r.shape[1]
    b = i[3][0] if len(i) > 3 and i[3] is not None else torch.zeros(8 * hidden)
    batch = x.shape[1]
    h = i[5][0] if len(i) > 5 and i[5] is not None else torch.zeros(batch, hidden)
    c = i[6][0] if len(i) > 6 and i[6] is not None else torch.zeros(batch, hidden)
    ys = []
    for t in range(x.shape[0]):
        g = x[t] @ w.T + h @ r.T + b[:4 * hidden] + b[4 * hidden:]
        gi, go, gf, gc = g.split(hidden, dim=1)
        gi, go, gf, gc = torch.sigmoid(gi), torch.sigmoid(go), torch.sigmoid(gf), torch.tanh(gc)
        c = gf * c + gi * gc
        h = go * torch.tanh(c)
        ys.append(h)
    y = torch.stack(ys).unsqueeze(1)
    return y, h.unsqueeze(0), c.unsqueeze(0)


def activation_params(lo, hi):
    lo, hi = min(0.0, lo), max(0.0, hi)
    scale = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
    zp = int(np.clip(np.round(-lo / scale), 0, 255))
    return scale, zp


def quantize(model, shape):
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)

    # calibration
    rng = torch.Generator().manual_seed(CALIBRATION_SEED)
    ranges = {}
    for _ in range(CALIBRATION_INPUTS):
        x = (torch.rand(*shape, generator=rng) * 4 - 2).numpy()
        env = run(g, inits, {"input": x})
        for k, v in env.items():
            if k in inits or not v.is_floating_point():
                continue
            lo, hi = float(v.min()), float(v.max())
            old = ranges.get(k, (lo, hi))
            ranges[k] = (min(lo, old[0]), max(hi, old[1]))

    # which tensors get Q -> DQ: the graph input and every output of a quantized op, except an output read only by
    # a Relu/Clip (the activation is fused; its own output is quantized)
    def weighted(n):
        return n.op_type in ("Conv", "Gemm") and n.input[1] in inits and (n.op_type == "Conv" or attr(n, "transB", 0) == 1)

    def quantized_tensor(name):
        readers = consumers.get(name, [])
        if any(weighted(r) for r in readers):
            return True
        if name == "input":
            return any(r.op_type in QUANTIZED for r in readers)
        p = producers.get(name)
        if p is None or p.op_type not in QUANTIZED:
            return False
        if len(readers) == 1 and readers[0].op_type in ("Relu", "Clip") and p.op_type in ("Conv", "Gemm", "Add"):
            return False
        return True

    params = {}
    for n in g.node:  # topological: MaxPool/Flatten/Reshape inherit their input's parameters
        for name in [v for v in n.input if v and v not in inits and v not in producers] + list(n.output):
            if name in params or not quantized_tensor(name):
                continue
            if n.op_type in SAME_PARAMS and name in n.output and n.input[0] in params:
                params[name] = params[n.input[0]]
            else:
                params[name] = activation_params(*ranges[name])

    new_nodes, new_inits = [], list(g.initializer)
    dq_of = {}

    def add_init(name, array):
        new_inits.append(numpy_helper.from_array(array, name))
        return name

    def qdq(name):
        if name in dq_of:
            return dq_of[name]
        scale, zp = params[name]
        s = add_init(name + "_scale", np.array(scale, dtype=np.float32))
        z = add_init(name + "_zero_point", np.array(zp, dtype=np.uint8))
        new_nodes.append(helper.make_node("QuantizeLinear", [name, s, z], [name + "_quantized"], name=name + "_QuantizeLinear"))
        new_nodes.append(helper.make_node("DequantizeLinear", [name + "_quantized", s, z], [name + "_dequantized"], name=name + "_DequantizeLinear"))
        dq_of[name] = name + "_dequantized"
        return dq_of[name]

    def weight_dq(node, w_name, b_name, x_name):
        w = inits[w_name]
        flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        w_scale = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
        shape = (-1,) + (1,) * (w.ndim - 1)
        wq = np.clip(np.round(w / w_scale.reshape(shape)), -127, 127).astype(np.int8)
        s = add_init(w_name + "_scale", w_scale)
        z = add_init(w_name + "_zero_point", np.zeros(w.shape[0], dtype=np.int8))
        q = add_init(w_name + "_quantized", wq)
        new_nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [w_name + "_dequantized"], name=w_name + "_DequantizeLinear", axis=0))
        inputs = [w_name + "_dequantized"]
        if b_name:
            b_scale = (np.float32(params[x_name][0]) * w_scale).astype(np.float32)
            bq = np.round(inits[b_name] / b_scale).astype(np.int32)
            bs = add_init(b_name + "_scale", b_scale)
            bz = add_init(b_name + "_zero_point", np.zeros(w.shape[0], dtype=np.int32))
            bqn = add_init(b_name + "_quantized", bq)
            new_nodes.append(helper.make_node("DequantizeLinear", [bqn, bs, bz], [b_name + "_dequantized"], name=b_name + "_DequantizeLinear", axis=0))
            inputs.append(b_name + "_dequantized")
        return inputs

    for v in g.input:
        if v.name in params:
            qdq(v.name)
    for n in g.node:
        x = n.input[0] if n.input else ""
        if weighted(n) and x in params:
            ins = [qdq(x)] + weight_dq(n, n.input[1], n.input[2] if len(n.input) > 2 else "", x)
            n2 = helper.make_node(n.op_type, ins, list(n.output), name=n.name)
            n2.attribute.extend(n.attribute)
            new_nodes.append(n2)
        elif n.op_type in QUANTIZED and x in params:
            n2 = helper.make_node(n.op_type, [qdq(v) if v in params else v for v in n.input], list(n.output), name=n.name)
            n2.attribute.extend(n.attribute)
            new_nodes.append(n2)
        else:
            new_nodes.append(n)
        for o in n.output:
            if o in params and o != "output":
                qdq(o)

    # the graph output: Q -> DQ, renamed so the graph output keeps its name
    out = g.output[0].name
    if out in params:
        producer = next(n for n in new_nodes if out in n.output)
        producer.output[list(producer.output).index(out)] = out + "_float"
        scale, zp = params[out]
        s = add_init(out + "_scale", np.array(scale, dtype=np.float32))
        z = add_init(out + "_zero_point", np.array(zp, dtype=np.uint8))
        new_nodes.append(helper.make_node("QuantizeLinear", [out + "_float", s, z], [out + "_quantized"], name=out + "_QuantizeLinear"))
        new_nodes.append(helper.make_node("DequantizeLinear", [out + "_quantized", s, z], [out], name=out + "_DequantizeLinear"))

    # keep only initializers something still reads (float weights now behind DequantizeLinear are dropped)
    used = {x for n in new_nodes for x in n.input}
    kept = [t for t in new_inits if t.name in used]
    graph = helper.make_graph(topological(new_nodes, [i.name for i in g.input], [t.name for t in kept]), g.name + "_qdq", g.input, g.output, kept)
    qmodel = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="edgenet make-qdq-models.py")
    onnx.checker.check_model(qmodel)
    return qmodel


def topological(nodes, inputs, inits):
    ready = set(inputs) | set(inits) | {""}
    done, order = set(), []
    while len(order) < len(nodes):
        progressed = False
        for k, n in enumerate(nodes):
            if k not in done and all(x in ready for x in n.input):
                order.append(n)
                done.add(k)
                ready.update(n.output)
                progressed = True
        if not progressed:
            raise SystemExit("QDQ graph has a cycle or a dangling input")
    return order


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-qdq-models.py OUT_DIR")
    torch.set_num_threads(1)
    builders = {name: (build, shape) for name, build, shape in mtm.models()}
    for name in NAMES:
        build, shape = builders[name]
        folder = os.path.join(sys.argv[1], name)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "model.onnx")
        float_model = export_float(name, build, shape, path)
        qmodel = quantize(float_model, shape)
        onnx.save(qmodel, path)
        ops = {}
        for n in qmodel.graph.node:
            ops[n.op_type] = ops.get(n.op_type, 0) + 1
        print(f"{name}: {' '.join(f'{k} x{v}' for k, v in sorted(ops.items()))}")


if __name__ == "__main__":
    main()
