"""ResNet-9 frame backbone of ScoNet / GaitBase (He et al., CVPR 2016 basic blocks).

Stem: 3x3 conv (no bias) -> BN -> ReLU, no max-pool; four stages of ``layers[i]`` basic
blocks with widths ``channels`` and strides (1, 2, 2, 1); a 1x1 conv + BN shortcut where
the shape changes. Module names match torchvision's ``ResNet`` so that the parameter names
of OpenGait's ``ResNet9`` map one to one (``layer2.0.downsample.0.weight``...).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn


class BasicBlock(nn.Module):
    """Two 3x3 convs with BN, ReLU after the first and after the residual sum.

    Shapes:
        x: [B, C_in, H, W] -> [B, C_out, ceil(H / stride), ceil(W / stride)].
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet9(nn.Module):
    """ResNet-9 on single-channel frames.

    Args:
        channels: widths of the four stages (reference 64, 128, 256, 512).
        layers: blocks per stage (reference 1, 1, 1, 1).
        strides: stride of each stage's first block (reference 1, 2, 2, 1).
        in_channels: input channels (1 for silhouettes).

    Shapes:
        x: [B, 1, 64, 44] -> [B, channels[-1], 16, 11] with the reference strides.
    """

    def __init__(
        self,
        channels: Sequence[int] = (64, 128, 256, 512),
        layers: Sequence[int] = (1, 1, 1, 1),
        strides: Sequence[int] = (1, 2, 2, 1),
        in_channels: int = 1,
    ):
        super().__init__()
        if not (len(channels) == len(layers) == len(strides) == 4):
            raise ValueError("ResNet9 needs four stages: channels, layers, strides of length 4")
        self.conv1 = nn.Conv2d(in_channels, channels[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels[0])
        self.relu = nn.ReLU(inplace=True)
        width = channels[0]
        for i, (c, n, s) in enumerate(zip(channels, layers, strides), start=1):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(width, c, s if b == 0 else 1))
                width = c
            self.add_module(f"layer{i}", nn.Sequential(*blocks))
        self.out_channels = width

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))
