"""How segments depend on each other: cycles and the order to refresh them in.

Segments may nest to any depth (SEGMENTS.md), but never in a cycle: a cycle
is an error that names it (``a -> b -> a``).

>>> graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": []}
>>> format_cycle(find_cycle(graph, ["a"]))
'a -> b -> c -> a'
>>> find_cycle(graph, ["d"]) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from segmint.dsl.nodes import Segment
from segmint.errors import Problem, ValidationError


def dependency_graph(segments: Mapping[str, Segment]) -> dict[str, list[str]]:
    """Each segment's name -> the names it refers to, sorted (so every walk is deterministic)."""
    return {name: sorted(segment.dependencies()) for name, segment in segments.items()}


def find_cycle(graph: Mapping[str, Iterable[str]], start: Sequence[str]) -> list[str] | None:
    """The first cycle reachable by following ``start`` (a path of one or more names), or ``None``.

    The cycle is closed: it ends with the name it starts with.  Names the
    graph does not know are dead ends (unknown references are reported
    elsewhere).

    >>> find_cycle({"a": ["a"]}, ["a"])
    ['a', 'a']
    >>> find_cycle({"a": ["b"], "b": []}, ["x", "x"])
    ['x', 'x']
    """
    path = list(start)
    for i, name in enumerate(path[:-1]):
        if name == path[-1]:
            return path[i:]
    on_path = set(path)
    done: set[str] = set()
    stack: list[Iterator[str]] = [iter(sorted(graph.get(path[-1], ())))]
    while stack:
        following = next(stack[-1], None)
        if following is None:
            stack.pop()
            finished = path.pop()
            on_path.discard(finished)
            done.add(finished)
            continue
        if following in on_path:
            return [*path[path.index(following) :], following]
        if following in done or following not in graph:
            continue
        path.append(following)
        on_path.add(following)
        stack.append(iter(sorted(graph[following])))
    return None


def format_cycle(cycle: Sequence[str] | None) -> str:
    """``['a', 'b', 'a']`` -> ``'a -> b -> a'``."""
    return " -> ".join(cycle or ())


def dependency_order(segments: Mapping[str, Segment]) -> list[str]:
    """Segment names with every segment after the ones it refers to (ties by name).

    Refresh evaluates segments in this order.  A cycle raises
    :class:`ValidationError` naming it; references to segments not in
    ``segments`` are ignored here (validation reports them).

    >>> a, b = Segment("a", conditions=()), Segment("b", conditions=())
    >>> dependency_order({"b": b, "a": a})
    ['a', 'b']
    """
    graph = dependency_graph(segments)
    order: list[str] = []
    placed: set[str] = set()
    problems: list[Problem] = []
    seen_cycles: set[frozenset[str]] = set()
    for name in sorted(graph):
        cycle = find_cycle(graph, [name])
        if cycle is not None:
            if frozenset(cycle) not in seen_cycles:
                seen_cycles.add(frozenset(cycle))
                problems.append(Problem(cycle[0], f"segments form a cycle: {format_cycle(cycle)}"))
            continue
        _place(name, graph, order, placed)
    if problems:
        raise ValidationError("segments refer to each other in a cycle", problems=problems)
    return order


def _place(name: str, graph: Mapping[str, Sequence[str]], order: list[str], placed: set[str]) -> None:
    # Depth-first post-order; the graph below ``name`` is known to be acyclic.
    stack: list[tuple[str, Iterator[str]]] = [(name, iter(graph[name]))]
    while stack:
        current, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if current not in placed:
                placed.add(current)
                order.append(current)
        elif child in graph and child not in placed:
            stack.append((child, iter(graph[child])))
