"""Graph objects of a skeleton layout, built with torch-geometric.

A layout's bones become a ``torch_geometric.data.Data`` graph (``edge_index`` with both
directions of every bone), optionally with self-loops; the GCN operator of Kipf & Welling
(ICLR 2017) uses the symmetric normalisation

.. math::
    \\hat{A} = D^{-1/2} (A + I) D^{-1/2}, \\qquad D_{ii} = \\sum_j (A + I)_{ij},

available here as a sparse ``(edge_index, edge_weight)`` pair (``gcn_norm``) and as a dense
``[V, V]`` matrix (``to_dense_adj``). ``spatial_partition`` gives ST-GCN's spatial
configuration partition (Yan et al., AAAI 2018): root, centripetal and centrifugal
neighbours by hop distance to the layout's centre joint.

Everything here depends on torch and torch-geometric only.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, degree, to_dense_adj

from graphs.layouts import Layout, get_layout


def _layout(layout: Layout | str) -> Layout:
    return get_layout(layout) if isinstance(layout, str) else layout


def skeleton_edge_index(layout: Layout | str, self_loops: bool = False) -> Tensor:
    """Directed edge index of a layout's bones (both directions), optionally with self-loops.

    Args:
        layout: a ``Layout`` or its name.
        self_loops: append one (i, i) edge per joint.

    Shapes:
        returns torch.long [2, 2E] (+ V with self-loops).
    """
    lay = _layout(layout)
    ei = lay.edge_index.clone()
    if self_loops:
        ei, _ = add_self_loops(ei, num_nodes=lay.num_joints)
    return ei


def skeleton_graph(layout: Layout | str, self_loops: bool = False) -> Data:
    """The layout as a torch-geometric ``Data`` graph (no node features).

    Args:
        layout: a ``Layout`` or its name.
        self_loops: include self-loops in ``edge_index``.

    Returns:
        ``Data(edge_index=[2, E'], num_nodes=V)`` with ``layout`` (name) as an attribute.
    """
    lay = _layout(layout)
    return Data(
        edge_index=skeleton_edge_index(lay, self_loops), num_nodes=lay.num_joints, layout=lay.name
    )


def degrees(layout: Layout | str, self_loops: bool = False) -> Tensor:
    """Number of neighbours of each joint (float [V]), counting the self-loop if asked."""
    lay = _layout(layout)
    ei = skeleton_edge_index(lay, self_loops)
    return degree(ei[1], num_nodes=lay.num_joints)


def normalized_edges(
    layout: Layout | str, edge_weight: Tensor | None = None, self_loops: bool = True
) -> tuple[Tensor, Tensor]:
    """Sparse symmetric-normalised GCN operator ``D^-1/2 (A + I) D^-1/2``.

    Args:
        layout: a ``Layout`` or its name.
        edge_weight: optional weights of the 2E directed bone edges (default 1).
        self_loops: add self-loops with weight 1 before normalising.

    Shapes:
        returns ``edge_index`` long [2, E'] and ``edge_weight`` float [E'].
    """
    lay = _layout(layout)
    ei, ew = gcn_norm(
        lay.edge_index.clone(), edge_weight, num_nodes=lay.num_joints, add_self_loops=self_loops
    )
    return ei, ew


def normalized_adjacency(
    layout: Layout | str, edge_weight: Tensor | None = None, self_loops: bool = True
) -> Tensor:
    """Dense symmetric-normalised adjacency ``D^-1/2 (A + I) D^-1/2``.

    Row i holds the weights with which joint i aggregates its neighbours, i.e.
    ``out = A_hat @ x`` equals torch-geometric's message passing with
    ``normalized_edges`` (source-to-target flow).

    Shapes:
        returns float [V, V].
    """
    lay = _layout(layout)
    ei, ew = normalized_edges(lay, edge_weight, self_loops)
    # to_dense_adj puts adj[src, dst]; message passing aggregates at dst: transpose.
    return to_dense_adj(ei, edge_attr=ew, max_num_nodes=lay.num_joints)[0].t().contiguous()


def adjacency(layout: Layout | str, self_loops: bool = False) -> Tensor:
    """Binary dense adjacency (float [V, V], symmetric)."""
    lay = _layout(layout)
    return to_dense_adj(skeleton_edge_index(lay, self_loops), max_num_nodes=lay.num_joints)[0]


def hop_distance(layout: Layout | str) -> Tensor:
    """Shortest-path hop distance between joints (long [V, V]; -1 where unreachable)."""
    lay = _layout(layout)
    v = lay.num_joints
    reach = adjacency(lay, self_loops=True) > 0
    dist = torch.full((v, v), -1, dtype=torch.long)
    dist[torch.eye(v, dtype=torch.bool)] = 0
    current = torch.eye(v, dtype=torch.bool)
    for d in range(1, v):
        nxt = (current.float() @ reach.float()) > 0
        new = nxt & (dist < 0)
        if not new.any():
            break
        dist[new] = d
        current = nxt
    return dist


def spatial_partition(layout: Layout | str, normalize: bool = True) -> Tensor:
    """ST-GCN spatial configuration partition: root, centripetal, centrifugal.

    For joint i and neighbour j (hop distance <= 1), the edge goes to subset 0 when j is i
    itself, to subset 1 (centripetal) when j is closer to the centre joint than i, to subset 2
    (centrifugal) when farther; neighbours at the same distance as i go to the root subset,
    as in ST-GCN. With ``normalize`` each subset is column-normalised by the neighbour
    degree (ST-GCN's ``A D^-1``).

    Shapes:
        returns float [3, V, V]; ``out.sum(0)`` is the (normalised) adjacency with self-loops.
    """
    lay = _layout(layout)
    v = lay.num_joints
    hop = hop_distance(lay)
    adj = adjacency(lay, self_loops=True)
    if normalize:
        deg = adj.sum(0)
        adj = adj / deg.clamp(min=1).unsqueeze(0)
    to_center = hop[:, lay.center].clone()
    to_center[to_center < 0] = v  # unreachable joints count as far away
    parts = torch.zeros(3, v, v)
    ii, jj = torch.nonzero(adj > 0, as_tuple=True)
    for i, j in zip(ii.tolist(), jj.tolist()):
        if to_center[j] == to_center[i]:
            parts[0, i, j] = adj[i, j]
        elif to_center[j] < to_center[i]:
            parts[1, i, j] = adj[i, j]
        else:
            parts[2, i, j] = adj[i, j]
    return parts
