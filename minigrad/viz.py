"""Pictures of the autograd graph: ``draw_graph(tensor)`` writes Graphviz DOT.

Every Tensor produced by an operation that needs gradients carries a
``grad_fn``: the Function instance (the ``ctx``) that made it. Its
``next_nodes`` say where each input came from: another node, a leaf Tensor
(a parameter or an input with ``requires_grad=True``), or None (a constant:
no gradient flows there). ``draw_graph`` walks those links from the tensor
back to the leaves and draws them the way data flows forward:

    leaf tensors (light blue boxes: name, shape, dtype)
        -> operation nodes (grey boxes: the Function class, e.g. MatMul)
        -> the output tensor (green box: shape, dtype)

With ``show_saved=True`` each operation also lists the shapes of the arrays it
saved for backward (what backward will read, and what the graph holds in
memory). After ``backward()`` without ``retain_graph=True`` the nodes have
freed their saved arrays and their links, so draw the graph before that.

In a Jupyter notebook the result of ``draw_graph`` shows as the picture
itself (SVG rendered by Graphviz), or as its DOT text when Graphviz is not
installed.
"""
import html
import shutil
import subprocess
import warnings

from minigrad.autograd import Function
from minigrad.tensor import Tensor


def _describe(array_or_tensor):
    data = array_or_tensor.array if isinstance(array_or_tensor, Tensor) else array_or_tensor
    shape = tuple(getattr(data, "shape", ()))
    dtype = getattr(data, "dtype", None)
    return f"{shape}" + (f" {dtype}" if dtype is not None else "")


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(tensor, params=None, show_saved=False):
    """The autograd graph that produced `tensor`, as DOT text (see the module docstring).

    `params`: optional {name: Tensor} (e.g. ``dict(model.named_parameters())``)
    to label leaves with their names.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph expects a minigrad.Tensor, got {type(tensor).__name__}")
    leaf_names = {id(t): name for name, t in (params or {}).items()}
    ids = {}

    def node_id(obj):
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
        return ids[id(obj)]

    lines = ["digraph autograd {",
             '  graph [rankdir=TB, fontname="Helvetica"];',
             '  node [shape=box, style="filled,rounded", fontname="Helvetica", fontsize=11];']

    def leaf_line(leaf):
        name = leaf_names.get(id(leaf), "leaf")
        grad = "requires_grad" if leaf.requires_grad else "no grad"
        label = _quote("\n".join((name, _describe(leaf), grad)))
        return f"  {node_id(leaf)} [label={label}, fillcolor=lightblue, kind=leaf];"

    output = node_id(("output", id(tensor)))
    grad = "requires_grad" if tensor.requires_grad else "no grad"
    label = _quote("\n".join(("output", _describe(tensor), grad)))
    lines.append(f"  {output} [label={label}, fillcolor=darkolivegreen1, kind=output];")
    if tensor.grad_fn is None:  # a leaf or a constant: nothing was recorded
        return "\n".join(lines + ["}"]) + "\n"

    edges = []
    root = tensor.grad_fn
    edges.append((node_id(root), output))
    seen, stack = {id(root)}, [root]
    while stack:  # iterative walk: deep graphs don't hit Python's recursion limit
        node = stack.pop()
        if node.__dict__.get("_released", False):
            raise RuntimeError("draw_graph: this graph was freed by backward(); draw it before "
                               "backward, or call backward(retain_graph=True)")
        lines.append(f"  {node_id(node)} [label={_quote(type(node).__name__)}, "
                     f"fillcolor=lightgrey, kind=op];")
        if show_saved:
            saved = [a for a in node.__dict__.get("_saved", ()) if hasattr(a, "shape")]
            if saved:
                saved_id = node_id(("saved", id(node)))
                text = "saved\n" + "\n".join(_describe(a) for a in saved)
                lines.append(f"  {saved_id} [label={_quote(text)}, fillcolor=orange, "
                             f"fontsize=9, kind=saved];")
                edges.append((saved_id, node_id(node), "style=dashed, arrowhead=none"))
        for parent in node.next_nodes:
            if parent is None:
                continue
            if id(parent) not in seen:
                seen.add(id(parent))
                if isinstance(parent, Function):
                    stack.append(parent)
                else:
                    lines.append(leaf_line(parent))
            edges.append((node_id(parent), node_id(node)))
    for edge in edges:
        attributes = f" [{edge[2]}]" if len(edge) > 2 else ""
        lines.append(f"  {edge[0]} -> {edge[1]}{attributes};")
    return "\n".join(lines + ["}"]) + "\n"


def graphviz_available():
    """True when Graphviz's `dot` program is on the PATH."""
    return shutil.which("dot") is not None


def render(dot_text, format="svg"):
    """The picture of `dot_text` in `format`, as bytes, rendered by Graphviz's `dot`."""
    completed = subprocess.run(["dot", f"-T{format}"], input=dot_text.encode(),
                               capture_output=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"draw_graph: dot -T{format} failed: "
                           f"{completed.stderr.decode(errors='replace').strip()}")
    return completed.stdout


class DotGraph(str):
    """DOT text (a str) that a notebook displays as a picture.

    Jupyter shows the richest of these that is not None: HTML before SVG, so
    ``_repr_html_`` steps aside when Graphviz can draw the SVG.
    """

    def _repr_svg_(self):
        if not graphviz_available():
            return None
        return render(self, "svg").decode("utf-8")

    def _repr_html_(self):
        if graphviz_available():
            return None
        return ("<p>Graphviz's <code>dot</code> is not installed (<code>apt-get install "
                "graphviz</code>), so here is the graph's DOT text:</p><pre>"
                + html.escape(str(self)) + "</pre>")


def draw_graph(tensor, path=None, format="svg", params=None, show_saved=False):
    """Draw the autograd graph that produced `tensor`; return its DOT text.

    With `path`, also write the picture there: rendered by Graphviz's `dot`
    in `format` ('svg', 'png', 'pdf', ...) when it is installed (Debian:
    ``apt-get install graphviz``), else (or with format='dot') the DOT text
    itself, with a warning when a picture was asked for. Returns the DOT text
    in every case, as a ``DotGraph`` (a str that notebooks display as the
    picture). `params` and `show_saved`: see ``to_dot``.
    """
    if not isinstance(format, str) or not format.isalnum():
        raise ValueError(f"format must be a Graphviz output format such as 'svg' or 'png', "
                         f"got {format!r}")
    dot_text = DotGraph(to_dot(tensor, params=params, show_saved=show_saved))
    if path is None:
        return dot_text
    path = str(path)
    if format == "dot" or not graphviz_available():
        if format != "dot":
            warnings.warn(f"draw_graph: Graphviz's `dot` program is not installed, so {path} "
                          f"holds DOT text, not {format}; install graphviz (apt-get install "
                          f"graphviz) or paste the text into an online DOT viewer", stacklevel=2)
        with open(path, "w") as f:
            f.write(dot_text)
        return dot_text
    picture = render(dot_text, format)
    with open(path, "wb") as f:
        f.write(picture)
    return dot_text
