"""Graph objects built with torch-geometric from the layouts."""

import pytest
import torch
from torch_geometric.nn import GCNConv
from torch_geometric.utils import is_undirected

import graphs


@pytest.mark.parametrize("name", ["mediapipe33", "coco17"])
def test_graph_and_normalised_adjacency(name):
    lay = graphs.get_layout(name)
    v = lay.num_joints
    g = graphs.skeleton_graph(name)
    assert g.num_nodes == v and is_undirected(g.edge_index)
    gl = graphs.skeleton_graph(name, self_loops=True)
    assert gl.edge_index.shape[1] == g.edge_index.shape[1] + v
    a = graphs.adjacency(name)
    assert torch.equal(a, a.t()) and a.diagonal().sum() == 0 and a.sum() == 2 * len(lay.edges)
    # D^-1/2 (A + I) D^-1/2 by hand
    ai = a + torch.eye(v)
    d = ai.sum(1).rsqrt()
    expect = d[:, None] * ai * d[None, :]
    assert torch.allclose(graphs.normalized_adjacency(name), expect, atol=1e-6)
    assert torch.allclose(graphs.degrees(name, self_loops=True), ai.sum(1))


def test_dense_equals_message_passing():
    lay = graphs.get_layout("coco17")
    x = torch.randn(lay.num_joints, 5)
    conv = GCNConv(5, 4, bias=False)
    expect = conv(x, lay.edge_index)
    dense = graphs.normalized_adjacency(lay) @ conv.lin(x)
    assert torch.allclose(dense, expect, atol=1e-5)
    ei, ew = graphs.normalized_edges(lay)
    assert ei.shape[1] == ew.numel() == 2 * len(lay.edges) + lay.num_joints


def test_hop_distance_and_spatial_partition():
    lay = graphs.get_layout("coco17")
    hop = graphs.hop_distance(lay)
    lh, lk, la = lay.index("left_hip"), lay.index("left_knee"), lay.index("left_ankle")
    assert hop[lh, lk] == 1 and hop[lh, la] == 2 and torch.equal(hop, hop.t())
    part = graphs.spatial_partition(lay, normalize=False)
    assert part.shape == (3, 17, 17)
    assert torch.equal(part.sum(0), graphs.adjacency(lay, self_loops=True))
    assert part[1, lk, lh] == 1  # knee -> hip goes towards the centre (left hip)
    assert part[2, lh, lk] == 1  # hip -> knee goes away from it
    assert torch.all(part[0].diagonal() == 1)
    norm = graphs.spatial_partition(lay)
    assert torch.allclose(norm.sum(0).sum(0), torch.ones(17))  # column-normalised
