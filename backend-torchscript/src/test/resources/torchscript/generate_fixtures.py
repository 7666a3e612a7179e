#!/usr/bin/python3
"""Writes the tiny TorchScript fixtures of the backend's tests, next to this script.

Run with Debian's interpreter and its PyTorch package, like models/generate.py:

    /usr/bin/python3 backend-torchscript/src/test/resources/torchscript/generate_fixtures.py

The output is deterministic (no weights are random); tests use the committed files.

- echo.pt: returns its input unchanged. TorchScript's Tensor type carries no dtype, so one file
  serves the contract's round trip of every datatype.
- tuple.pt, list.pt, dict.pt: (x * 2, x + 1) as a tuple, a list and a dict keyed "doubled" and
  "incremented" (inserted in the other order, to show that dict outputs map by key).
- int.pt, nested_tuple.pt, dict_of_lists.pt: outputs the backend refuses.
- difference.pt: two inputs, returns a - b (its inputs are positional: the order matters).
- failing.pt: raises inside forward when the input sums to more than 1000.
- validating.pt: raises ValueError for negative inputs, as a model checking its inputs would.
- strided.pt: returns its input as a non-contiguous tensor (a transposed copy, transposed back).
- state_dict.pt: not TorchScript but a torch.save'd state_dict, a common mistake.
- grad_mode.pt: returns one row per input row, [1 if inference mode is on, 1 if grad mode is on],
  to check what the backend's inference_mode setting does.
"""
import os
import sys
from typing import Dict, List, Tuple

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Echo(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input


class TupleOutput(nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return x * 2, x + 1


class ListOutput(nn.Module):
    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [x * 2, x + 1]


class DictOutput(nn.Module):
    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"incremented": x + 1, "doubled": x * 2}


class IntOutput(nn.Module):
    def forward(self, x: torch.Tensor) -> int:
        return 42


class NestedTupleOutput(nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[Tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        return (x * 2, x + 1), x


class DictOfListsOutput(nn.Module):
    def forward(self, x: torch.Tensor) -> Dict[str, List[torch.Tensor]]:
        return {"doubled": [x * 2], "incremented": [x + 1]}


class Difference(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a - b


class Failing(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.sum() > 1000.0):
            raise RuntimeError("input sum is above 1000")
        return x


class Validating(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x < 0).any()):
            raise ValueError("features must not be negative")
        return x


class Strided(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.t().contiguous().t()


class GradMode(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        created = x + 0
        flags = [float(created.is_inference()), float(torch.is_grad_enabled())]
        return torch.tensor([flags]).expand(x.shape[0], 2)


FIXTURES = {
    "echo": Echo,
    "tuple": TupleOutput,
    "list": ListOutput,
    "dict": DictOutput,
    "int": IntOutput,
    "nested_tuple": NestedTupleOutput,
    "dict_of_lists": DictOfListsOutput,
    "difference": Difference,
    "failing": Failing,
    "validating": Validating,
    "strided": Strided,
    "grad_mode": GradMode,
}


def main():
    for name, module in FIXTURES.items():
        path = os.path.join(HERE, name + ".pt")
        torch.jit.script(module().eval()).save(path)
        print("wrote", path)
    linear = nn.Linear(2, 2)
    with torch.no_grad():
        linear.weight.fill_(1.0)
        linear.bias.fill_(0.0)
    path = os.path.join(HERE, "state_dict.pt")
    torch.save(linear.state_dict(), path)
    print("wrote", path)


if __name__ == "__main__":
    sys.exit(main())
