"""Pytrees: nested tuples, lists, dicts and namedtuples of leaves (torch.utils._pytree).

    flatten(((a, b), {"k": c}))  ->  [a, b, c], spec
    unflatten([x, y, z], spec)   ->  ((x, y), {"k": z})

A spec records the containers (type, dict keys) and leaves as ``*``; its repr
is PyTorch's ``TreeSpec(tuple, None, [*, *])``, which the error messages of
torch.func quote. ``None`` is a container with no leaves, as in PyTorch.
"""
from collections import OrderedDict

__all__ = ["TreeSpec", "LEAF", "flatten", "unflatten", "broadcast_prefix", "tree_map"]


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class TreeSpec:
    """A container's type, its context (dict keys, or a namedtuple class) and child specs."""

    def __init__(self, kind, context, children):
        self.kind, self.context, self.children = kind, context, children
        self.num_leaves = sum(child.num_leaves for child in children)

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind is other.kind
                and self.context == other.context and self.children == other.children)

    def __repr__(self, indent=0):
        name = self.context.__name__ if self.kind is _NAMEDTUPLE else self.kind.__name__
        context = self.context.__name__ if self.kind is _NAMEDTUPLE else self.context
        text = ""
        if self.children:
            indent += 2
            text = self.children[0].__repr__(indent) + ("," if len(self.children) > 1 else "")
            text += ",".join(["\n" + " " * indent + child.__repr__(indent) for child in self.children[1:]])
        return f"TreeSpec({name}, {context}, [{text}])"


class _LeafSpec(TreeSpec):
    def __init__(self):
        super().__init__(None, None, [])
        self.num_leaves = 1

    def __eq__(self, other):
        return isinstance(other, _LeafSpec)

    def __repr__(self, indent=0):
        return "*"


class _NAMEDTUPLE:  # the kind of a namedtuple's spec (its context is the class)
    pass


LEAF = _LeafSpec()


def _children(tree):
    """(kind, context, children) of a container, or None for a leaf."""
    if tree is None:
        return type(None), None, []
    if _is_namedtuple(tree):
        return _NAMEDTUPLE, type(tree), list(tree)
    if type(tree) in (tuple, list):
        return type(tree), None, list(tree)
    if type(tree) in (dict, OrderedDict):
        keys = list(tree)
        return type(tree), keys, [tree[k] for k in keys]
    return None


def flatten(tree):
    """(leaves in order, spec)."""
    leaves = []

    def walk(node):
        parts = _children(node)
        if parts is None:
            leaves.append(node)
            return LEAF
        kind, context, children = parts
        return TreeSpec(kind, context, [walk(child) for child in children])

    return leaves, walk(tree)


def unflatten(leaves, spec):
    """The tree of `spec` with `leaves` in its leaf positions."""
    leaves = iter(leaves)

    def build(node):
        if isinstance(node, _LeafSpec):
            return next(leaves)
        children = [build(child) for child in node.children]
        if node.kind is type(None):
            return None
        if node.kind is _NAMEDTUPLE:
            return node.context(*children)
        if node.kind in (dict, OrderedDict):
            return node.kind(zip(node.context, children))
        return node.kind(children)

    return build(spec)


def tree_map(function, tree):
    leaves, spec = flatten(tree)
    return unflatten([function(leaf) for leaf in leaves], spec)


def broadcast_prefix(prefix, spec):
    """One value per leaf of `spec`: `prefix` is a tree whose leaves each stand
    for a whole subtree of `spec` (in_dims=(0, None) for arguments (x, [a, b])).
    None if the structures don't match."""
    values = []

    def walk(prefix_node, node):
        parts = _children(prefix_node)
        if parts is None or prefix_node is None and node.kind is not type(None):
            values.extend([prefix_node] * node.num_leaves)  # a leaf of prefix covers the subtree
            return True
        kind, context, children = parts
        if isinstance(node, _LeafSpec) or node.kind is not kind or node.context != context \
                or len(children) != len(node.children):
            return False
        return all(walk(child, child_spec) for child, child_spec in zip(children, node.children))

    return values if walk(prefix, spec) else None
