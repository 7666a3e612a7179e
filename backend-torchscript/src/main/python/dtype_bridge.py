#!/usr/bin/python3
"""Writes dtype_bridge.pt, the small TorchScript module the backend uses for BF16 and INT16 tensors.

DJL 0.36's JNI layer can create tensors of eight element types only (FP32, FP64, FP16, UINT8,
INT8, INT32, INT64, BOOL); asked for BF16 or INT16 it aborts the JVM. The backend therefore hands
libtorch BF16 and INT16 inputs as INT32 tensors and converts them inside libtorch with this module:

- bfloat16_from_bits: looks every 16-bit pattern up in a table of all 65536 BF16 values, so that
  the conversion is bit-exact for every pattern, NaN payloads included (a numeric conversion
  through FP32 would turn every NaN into one canonical NaN);
- int16_from_int32: narrows INT32 values, which the backend fills from INT16 ones, exactly;
- dtype_of: names the element type of a tensor DJL cannot name (BF16, INT16 and others), by
  libtorch's ScalarType code.

Output tensors of any type are copied out as raw bytes and need no conversion.

Run with Debian's interpreter and its PyTorch package, like models/generate.py:

    /usr/bin/python3 backend-torchscript/src/main/python/dtype_bridge.py

The output is deterministic; the build uses the committed file.
"""
import os
import sys

import torch
from torch import Tensor, nn

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(
    HERE, "..", "resources", "dev", "hangar", "backend", "torchscript", "dtype_bridge.pt"
)


class DtypeBridge(nn.Module):
    def __init__(self):
        super().__init__()
        # entry i holds the BF16 value whose bit pattern is i, for i in [0, 65536)
        bits = torch.arange(65536, dtype=torch.int32).to(torch.int16)
        self.register_buffer("bfloat16_table", bits.view(torch.bfloat16).clone())

    def forward(self, x: Tensor) -> Tensor:
        return x

    @torch.jit.export
    def dtype_of(self, x: Tensor) -> int:
        return x.dtype

    @torch.jit.export
    def bfloat16_from_bits(self, bits: Tensor) -> Tensor:
        return self.bfloat16_table.index_select(0, bits.reshape(-1)).reshape(bits.shape)

    @torch.jit.export
    def int16_from_int32(self, x: Tensor) -> Tensor:
        return x.to(torch.int16)


def main():
    target = os.path.normpath(TARGET)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    torch.jit.script(DtypeBridge().eval()).save(target)
    print("wrote", target)


if __name__ == "__main__":
    sys.exit(main())
