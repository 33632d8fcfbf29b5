#!/usr/bin/python3
"""Writes the ONNX test fixtures and what Debian's python3-onnx reads from them.

usage: onnx_expected.py OUT_DIR

Writes into OUT_DIR a few models made with onnx.helper (sparse
initializers, typed fields, subgraphs, external data) and expected.json:
for each of those and every model of libonnx-testdata that holds
initializers or Constant nodes, the tensors as python3-onnx reads them:
name, source, dims, data type and values (numpy's tobytes() in hex), named
as the C++ reader names them (a Constant's tensor by the node's first
output, sparse indices by "<values name>.indices"). HARTONOMOUS_ONNX_EXTRA
may list more model files (colon-separated) to compare.
"""
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]


def tensors_of(graph, depth=0):
    found = []
    for t in graph.initializer:
        found.append((t.name, "initializer", t))
    for sp in graph.sparse_initializer:
        found.append((sp.values.name, "sparse_values", sp.values))
        found.append((sp.indices.name or sp.values.name + ".indices", "sparse_indices", sp.indices))
    for node in graph.node:
        for a in node.attribute:
            if node.op_type == "Constant" and a.name == "value" and a.HasField("t"):
                found.append((node.output[0], "constant", a.t))
            if node.op_type == "Constant" and a.name == "sparse_value":
                sp = a.sparse_tensor
                found.append((node.output[0], "sparse_values", sp.values))
                found.append((sp.indices.name or node.output[0] + ".indices", "sparse_indices",
                              sp.indices))
            if a.HasField("g"):
                found += tensors_of(a.g, depth + 1)
            for g in a.graphs:
                found += tensors_of(g, depth + 1)
    return found


def describe(path):
    model = onnx.load(path)  # loads external data from the model's directory
    rows = []
    for name, source, t in tensors_of(model.graph):
        if t.data_type == TensorProto.COMPLEX64 and not t.HasField("raw_data"):
            # python3-onnx 1.12's to_array cannot read complex float_data.
            values = np.asarray(t.float_data, dtype=np.float32)
        else:
            values = numpy_helper.to_array(t)
        rows.append({"name": name, "source": source, "dims": list(t.dims),
                     "data_type": t.data_type, "hex": values.tobytes().hex()})
    return rows


def save(name, graph, **kwargs):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = os.path.join(out, name)
    onnx.save_model(model, path, **kwargs)
    return path


made = []
rng = np.random.default_rng(12)
w = rng.standard_normal((3, 5)).astype(np.float32)

# Initializers in raw_data and in every typed field.
inits = [
    numpy_helper.from_array(w, "model.layers.0.mlp.fc1.weight"),
    helper.make_tensor("typed.float", TensorProto.FLOAT, [2, 2], [1.0, -2.5, 3.25, 0.0]),
    helper.make_tensor("typed.double", TensorProto.DOUBLE, [3], [1e300, -0.5, 2.0]),
    helper.make_tensor("typed.int64", TensorProto.INT64, [2], [-(2**40), 7]),
    helper.make_tensor("typed.int32", TensorProto.INT32, [3], [-1, 0, 2**31 - 1]),
    helper.make_tensor("typed.int8", TensorProto.INT8, [3], [-128, 5, 127]),
    helper.make_tensor("typed.uint16", TensorProto.UINT16, [2], [65535, 1]),
    helper.make_tensor("typed.bool", TensorProto.BOOL, [3], [True, False, True]),
    helper.make_tensor("typed.float16", TensorProto.FLOAT16, [2],
                       np.array([1.5, -3.0], dtype=np.float16).view(np.uint16).tolist()),
    helper.make_tensor("typed.uint64", TensorProto.UINT64, [2], [2**63 + 5, 1]),
    helper.make_tensor("typed.uint32", TensorProto.UINT32, [2], [2**32 - 1, 3]),
    helper.make_tensor("typed.complex64", TensorProto.COMPLEX64, [2], [1 + 2j, -3 - 4j]),
    helper.make_tensor("empty.float", TensorProto.FLOAT, [0, 4], []),
    helper.make_tensor("scalar.float", TensorProto.FLOAT, [], [42.0]),
    numpy_helper.from_array(np.arange(6, dtype=np.int16).reshape(2, 3), "raw.int16"),
]
sparse = helper.make_sparse_tensor(
    numpy_helper.from_array(np.array([1.5, -2.0], dtype=np.float32), "sparse.weight"),
    numpy_helper.from_array(np.array([1, 7], dtype=np.int64), "sparse.weight.idx"), [2, 4])
const = helper.make_node("Constant", [], ["const.out"],
                         value=numpy_helper.from_array(np.array([9, 8, 7], dtype=np.int64)))
sparse_const = helper.make_node("Constant", [], ["sparse.const"], sparse_value=helper.make_sparse_tensor(
    numpy_helper.from_array(np.array([4.0], dtype=np.float32), "sv"),
    numpy_helper.from_array(np.array([2], dtype=np.int64), ""), [5]))
# If with subgraphs holding their own initializers and a nested If.
def branch(name, value, nested=None):
    nodes = [helper.make_node("Identity", [name + ".w"], [name + ".y"])]
    if nested is not None:
        nodes.append(nested)
    return helper.make_graph(
        nodes, name, [], [helper.make_tensor_value_info(name + ".y", TensorProto.FLOAT, [2])],
        initializer=[numpy_helper.from_array(np.array([value, -value], dtype=np.float32),
                                             name + ".w")])
inner_if = helper.make_node("If", ["cond"], ["inner.y"], then_branch=branch("inner_then", 5.0),
                            else_branch=branch("inner_else", 6.0))
if_node = helper.make_node("If", ["cond"], ["if.y"], then_branch=branch("then", 1.0, inner_if),
                           else_branch=branch("else", 2.0))
graph = helper.make_graph(
    [const, sparse_const, if_node], "fixture",
    [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
    [helper.make_tensor_value_info("if.y", TensorProto.FLOAT, [2])],
    initializer=inits, sparse_initializer=[sparse])
made.append(save("fixture.onnx", graph))

# External data in a side file.
ext_graph = helper.make_graph(
    [], "external", [], [helper.make_tensor_value_info("ext.a", TensorProto.FLOAT, [3, 5])],
    initializer=[numpy_helper.from_array(w, "ext.a"),
                 numpy_helper.from_array(np.arange(4, dtype=np.int64), "ext.b")])
made.append(save("external.onnx", ext_graph, save_as_external_data=True,
                 all_tensors_to_one_file=True, location="external.weights", size_threshold=0))

expected = {}
for path in made:
    expected[path] = describe(path)
# More models to compare, e.g. ones fetched by hand (colon-separated paths).
extra = [p for p in os.environ.get("HARTONOMOUS_ONNX_EXTRA", "").split(":") if p]
for path in extra + sorted(glob.glob("/usr/share/libonnx-testdata/data/**/*.onnx", recursive=True)):
    rows = describe(path)
    if rows:
        expected[path] = rows
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f)
