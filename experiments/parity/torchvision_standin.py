"""A minimal stand-in for ``torchvision.models.resnet`` (BasicBlock, Bottleneck, ResNet).

OpenGait's ``ResNet9`` subclasses torchvision's ``ResNet`` and uses its ``BasicBlock``;
torchvision cannot be installed next to this project's torch build, so the parity check
installs this module under the name ``torchvision.models.resnet`` before importing
OpenGait. It reproduces torchvision's module structure, attribute names and forward
semantics for what ResNet9 uses (no groups / width options beyond the defaults, no
dilation). Written for this project; not torchvision's code.
"""

from __future__ import annotations

import sys
import types

from torch import nn


def _conv3x3(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(
        self,
        inplanes,
        planes,
        stride=1,
        downsample=None,
        groups=1,
        base_width=64,
        dilation=1,
        norm_layer=None,
    ):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("stand-in BasicBlock supports groups=1, base_width=64 only")
        norm_layer = norm_layer or nn.BatchNorm2d
        self.conv1 = _conv3x3(inplanes, planes, stride, dilation)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes, 1, dilation)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """Present so that OpenGait's ``block_map`` imports; not used by ScoNet."""

    expansion = 4

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("the torchvision stand-in has no Bottleneck")


class ResNet(nn.Module):
    """torchvision-like ResNet skeleton: stem, four stages via ``_make_layer``, head."""

    def __init__(
        self,
        block,
        layers,
        num_classes=1000,
        zero_init_residual=False,
        groups=1,
        width_per_group=64,
        replace_stride_with_dilation=None,
        norm_layer=None,
    ):
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes, self.dilation = 64, 1
        self.groups, self.base_width = groups, width_per_group
        dil = replace_stride_with_dilation or [False, False, False]
        self.conv1 = nn.Conv2d(3, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=dil[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=dil[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=dil[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                norm_layer(planes * block.expansion),
            )
        mods = [
            block(
                self.inplanes,
                planes,
                stride,
                downsample,
                self.groups,
                self.base_width,
                previous_dilation,
                norm_layer,
            )
        ]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            mods.append(
                block(
                    self.inplanes,
                    planes,
                    groups=self.groups,
                    base_width=self.base_width,
                    dilation=self.dilation,
                    norm_layer=norm_layer,
                )
            )
        return nn.Sequential(*mods)


def install() -> None:
    """Register stand-in ``torchvision`` modules (resnet above; placeholders for the rest
    that OpenGait imports at module level but ScoNet never calls)."""

    class _Unavailable:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("not available in the torchvision stand-in")

    names = ["torchvision", "torchvision.models", "torchvision.models.resnet"]
    names += ["torchvision.ops", "torchvision.utils", "torchvision.transforms"]
    for name in names:
        mod = types.ModuleType(name)
        mod.__path__ = []
        sys.modules[name] = mod
    res = sys.modules["torchvision.models.resnet"]
    res.BasicBlock, res.Bottleneck, res.ResNet = BasicBlock, Bottleneck, ResNet
    sys.modules["torchvision.ops"].RoIAlign = _Unavailable
    try:  # OpenGait's message manager imports tensorboard's SummaryWriter
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        tb = types.ModuleType("torch.utils.tensorboard")
        tb.SummaryWriter = _Unavailable
        sys.modules["torch.utils.tensorboard"] = tb
