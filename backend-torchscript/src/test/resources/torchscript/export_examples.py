#!/usr/bin/python3
"""Writes the export-time optimizations the backend README shows, on a tiny MLP, next to this
script, so that tests check the backend serves what they produce:

    /usr/bin/python3 backend-torchscript/src/test/resources/torchscript/export_examples.py

- mlp.pt: the model scripted as it is (16 -> 32 -> 4, ReLU), for reference.
- mlp_frozen.pt: torch.jit.freeze of the scripted model: parameters inlined and folded as constants.
- mlp_int8.pt: torch.ao.quantization.quantize_dynamic (Linear weights int8, activations quantized
  per call), traced and frozen.
- mlp_examples.txt: eight input rows and the three models' outputs for them.

Deterministic for a given PyTorch version (fixed seed).
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(16, 32)
        self.out = torch.nn.Linear(32, 4)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(features)))


def main():
    torch.manual_seed(0)
    model = Mlp().eval()
    example = torch.rand(1, 16)

    scripted = torch.jit.script(model)
    scripted.save(os.path.join(HERE, "mlp.pt"))

    # freeze: needs eval(); inlines parameters and attributes as constants and folds them
    frozen = torch.jit.freeze(scripted)
    frozen.save(os.path.join(HERE, "mlp_frozen.pt"))

    # dynamic int8: Linear weights stored as int8, activations quantized per call
    quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    torch.jit.freeze(torch.jit.trace(quantized, example)).save(os.path.join(HERE, "mlp_int8.pt"))

    rows = torch.rand(8, 16)
    with torch.no_grad():
        outputs = {"fp32": model(rows), "frozen": frozen(rows), "int8": quantized(rows)}
    with open(os.path.join(HERE, "mlp_examples.txt"), "w") as text:
        text.write("# input rows, then the outputs of mlp.pt, mlp_frozen.pt and mlp_int8.pt\n")
        for name, tensor in [("input", rows)] + list(outputs.items()):
            text.write(name + "\n")
            for row in tensor.tolist():
                text.write(" ".join(repr(value) for value in row) + "\n")


if __name__ == "__main__":
    main()
