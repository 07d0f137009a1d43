"""draw_graph: the DOT text is parsed back and compared with the graph that was built."""
import re
import shutil

import numpy as np
import pytest

import minigrad
from minigrad import viz

NODE = re.compile(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)".*kind=(\w+)\];$')
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+)( \[.*\])?;$")


def parse(dot):
    """{id: (kind, label lines)} and [(source, target, dashed)] from our DOT output."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        node = NODE.match(line)
        if node:
            nodes[node.group(1)] = (node.group(3), node.group(2).split("\\n"))
            continue
        edge = EDGE.match(line)
        if edge:
            edges.append((edge.group(1), edge.group(2), bool(edge.group(3))))
    return nodes, edges


def by_label(nodes, first_line):
    found = [i for i, (_, lines) in nodes.items() if lines[0] == first_line]
    assert len(found) == 1, (first_line, nodes)
    return found[0]


def test_linear_layer_graph_nodes_and_edges():
    x = minigrad.randn(4, 3)                        # input: no grad, so not in the graph
    w = minigrad.randn(3, 2, requires_grad=True)
    b = minigrad.zeros(2, requires_grad=True)
    loss = (minigrad.matmul(x, w) + b).relu().sum()
    nodes, edges = parse(viz.draw_graph(loss, params={"w": w, "b": b}))

    kinds = sorted(kind for kind, _ in nodes.values())
    assert kinds == ["leaf", "leaf", "op", "op", "op", "op", "output"]
    ops = {lines[0] for kind, lines in nodes.values() if kind == "op"}
    assert ops == {"MatMul", "Add", "ReLU", "Sum"}
    w_id, b_id = by_label(nodes, "w"), by_label(nodes, "b")
    assert nodes[w_id][1][1:] == ["(3, 2) float32", "requires_grad"]
    assert nodes[b_id][1][1:] == ["(2,) float32", "requires_grad"]
    out = by_label(nodes, "output")
    assert nodes[out][1][1] == "() float32"
    expected = {(w_id, by_label(nodes, "MatMul")), (by_label(nodes, "MatMul"), by_label(nodes, "Add")),
                (b_id, by_label(nodes, "Add")), (by_label(nodes, "Add"), by_label(nodes, "ReLU")),
                (by_label(nodes, "ReLU"), by_label(nodes, "Sum")), (by_label(nodes, "Sum"), out)}
    assert {(s, t) for s, t, _ in edges} == expected
    assert len(edges) == len(expected)


def test_reused_node_drawn_once_with_two_edges():
    a = minigrad.randn(3, requires_grad=True)
    h = a.exp()
    y = (h * h).sum()                               # h feeds Mul twice
    nodes, edges = parse(viz.draw_graph(y))
    exp_id, mul_id = by_label(nodes, "Exp"), by_label(nodes, "Mul")
    assert [(s, t) for s, t, _ in edges].count((exp_id, mul_id)) == 2
    assert sum(1 for kind, _ in nodes.values() if kind == "leaf") == 1


def test_show_saved_lists_saved_array_shapes():
    a = minigrad.randn(2, 5, requires_grad=True)
    b = minigrad.randn(5, 3, requires_grad=True)
    y = minigrad.matmul(a, b)
    nodes, edges = parse(viz.draw_graph(y, show_saved=True))
    saved = [i for i, (kind, _) in nodes.items() if kind == "saved"]
    assert len(saved) == 1
    assert nodes[saved[0]][1] == ["saved", "(2, 5) float32", "(5, 3) float32"]
    assert (saved[0], by_label(nodes, "MatMul"), True) in edges


def test_leaf_and_constant_tensors():
    leaf = minigrad.ones(2, 2, requires_grad=True)
    nodes, edges = parse(viz.draw_graph(leaf))
    assert list(nodes.values()) == [("output", ["output", "(2, 2) float32", "requires_grad"])]
    assert edges == []
    nodes, _ = parse(viz.draw_graph(minigrad.ones(3, dtype=minigrad.float64)))
    assert list(nodes.values()) == [("output", ["output", "(3,) float64", "no grad"])]


def test_deep_chain_is_not_recursive():
    x = minigrad.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    nodes, edges = parse(viz.draw_graph(y))
    assert len(nodes) == 3002 and len(edges) == 3001


def test_freed_graph_and_bad_arguments():
    x = minigrad.ones(2, requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        viz.draw_graph(y)
    with pytest.raises(TypeError, match="Tensor"):
        viz.draw_graph(np.ones(2))
    with pytest.raises(ValueError, match="format"):
        viz.draw_graph(x, format="../svg")


def test_path_writes_dot_text_when_format_is_dot(tmp_path):
    x = minigrad.ones(2, requires_grad=True)
    path = tmp_path / "graph.dot"
    text = viz.draw_graph(x.exp().sum(), path=path, format="dot")
    assert path.read_text() == text and text.startswith("digraph autograd {")


def test_without_graphviz_writes_dot_text_and_warns(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    x = minigrad.ones(2, requires_grad=True)
    path = tmp_path / "graph.svg"
    with pytest.warns(UserWarning, match="not installed"):
        text = viz.draw_graph(x.exp().sum(), path=path)
    assert path.read_text() == text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_renders_svg_with_graphviz(tmp_path):
    w = minigrad.randn(3, 2, requires_grad=True)
    y = minigrad.matmul(minigrad.randn(4, 3), w).sum()
    path = tmp_path / "graph.svg"
    viz.draw_graph(y, path=path, params={"weight": w})
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ("MatMul", "Sum", "weight", "(3, 2) float32"):
        assert text in svg


# ------------------------------------------------------------- notebook display
def test_graph_displays_in_notebooks_without_graphviz(monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    x = minigrad.ones(2, requires_grad=True)
    graph = viz.draw_graph((x * 2).sum(), params={"x<in>": x})
    assert isinstance(graph, str) and graph == viz.to_dot((x * 2).sum(), params={"x<in>": x})
    assert graph._repr_svg_() is None                    # nothing to draw it with
    page = graph._repr_html_()
    assert "apt-get install graphviz" in page and "digraph autograd {" in page
    assert "x&lt;in&gt;" in page and "x<in>" not in page    # the DOT text is escaped


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_graph_displays_as_svg_with_graphviz():
    w = minigrad.randn(3, 2, requires_grad=True)
    graph = viz.draw_graph(minigrad.matmul(minigrad.randn(4, 3), w).sum(), params={"weight": w})
    assert graph._repr_html_() is None
    svg = graph._repr_svg_()
    assert "<svg" in svg and "MatMul" in svg and "weight" in svg


def test_summary_table_displays_as_html():
    from minigrad import nn
    from minigrad.utils import summary
    table = summary(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), (1, 5, 5), verbose=False)
    page = table._repr_html_()
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in rows]
    assert cells[0][:3] == ["name", "type", "output shape"]
    assert cells[1][:3] == ["0", "Conv2d", "(1, 2, 3, 3)"] and cells[1][4] == "20"
    assert cells[2][:2] == ["1", "ReLU"]
    assert ["total params", "20"] in cells
    assert 'style="text-align:right">20<' in page            # numbers right-aligned
