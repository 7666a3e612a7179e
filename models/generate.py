#!/usr/bin/python3
"""Regenerates Hangar's sample models from fixed seeds.

Run with Debian's own interpreter and its PyTorch package, not a pyenv one:

    sudo apt-get install python3-torch
    /usr/bin/python3 models/generate.py

Each model is a small MLP trained for a few seconds on synthetic data drawn from a fixed formula,
so its outputs are meaningful enough to read, and it is written twice from the same weights:
as ONNX (quality_predictor/1/model.onnx, routing_classifier/1/model.onnx) and as TorchScript
(quality_predictor_torchscript/1/model.pt, routing_classifier_torchscript/1/model.pt).
The CoreML twins are written by Hangar itself from the ONNX weights (see backend-coreml).
Tests never run this script; they use the committed files.
"""
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def quality_data(n, generator):
    # 10 features of a raster-to-vector run, each scaled to about [0, 1]; see quality_predictor/README.md
    x = torch.rand(n, 10, generator=generator)
    colors, edges, noise, gradient, text = x[:, 0], x[:, 1], x[:, 2], x[:, 3], x[:, 4]
    paths, precision, smoothing, scale, layers = x[:, 5], x[:, 6], x[:, 7], x[:, 8], x[:, 9]
    logit = (
        2.0
        - 1.8 * colors
        - 1.2 * noise
        - 1.5 * gradient
        - 0.6 * text
        + 1.4 * paths
        + 1.6 * precision
        - 0.8 * (smoothing - 0.4).abs()
        + 0.3 * scale
        + 0.5 * layers * colors
        - 0.7 * edges * noise
    )
    return x, torch.sigmoid(logit).unsqueeze(1)


def routing_data(n, generator):
    # 15 features of an incoming job; see routing_classifier/README.md
    x = torch.rand(n, 15, generator=generator)
    size, pixels, colors, noise, gradient = x[:, 0], x[:, 1], x[:, 2], x[:, 3], x[:, 4]
    budget = x[:, 5]
    score = 1.5 * size + 2.0 * pixels + 1.2 * colors + 0.8 * noise + 1.0 * gradient + 0.4 * x[:, 6:].mean(1)
    score = score - 1.5 * budget
    tier = torch.bucketize(score, torch.tensor([0.9, 1.8, 2.7]))
    return x, tier


class QualityPredictor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 32)
        self.out = nn.Linear(32, 1)

    def forward(self, features):
        return torch.sigmoid(self.out(torch.relu(self.hidden(features))))


class RoutingClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(15, 32)
        self.out = nn.Linear(32, 4)

    def forward(self, features):
        return torch.softmax(self.out(torch.relu(self.hidden(features))), dim=1)


def train(model, data, loss_fn, steps, seed):
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        x, y = data(256, generator)
        optimizer.zero_grad()
        loss = loss_fn(model, x, y)
        loss.backward()
        optimizer.step()
    return float(loss)


def write(model, name, input_width, output_name):
    model.eval()
    example = torch.zeros(1, input_width)
    onnx_path = os.path.join(HERE, name, "1", "model.onnx")
    os.makedirs(os.path.dirname(onnx_path), exist_ok=True)
    torch.onnx.export(
        model,
        example,
        onnx_path,
        input_names=["features"],
        output_names=[output_name],
        dynamic_axes={"features": {0: "batch"}, output_name: {0: "batch"}},
        opset_version=13,
        do_constant_folding=True,
    )
    pt_path = os.path.join(HERE, name + "_torchscript", "1", "model.pt")
    os.makedirs(os.path.dirname(pt_path), exist_ok=True)
    torch.jit.script(model).save(pt_path)
    print("wrote", onnx_path, "and", pt_path)


def write_reference(model, name, input_width, output_name, seed):
    # inputs and the outputs PyTorch computes for them: the reference every backend is held to
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(8, input_width, generator=generator)
    x[0] = 0.0
    x[1] = 1.0
    with torch.no_grad():
        y = model(x)
    path = os.path.join(HERE, "reference", name + ".txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# %s: inputs and the outputs PyTorch %s computes for them (models/generate.py)\n" % (name, torch.__version__))
        for kind, tensor_name, t in (("input", "features", x), ("output", output_name, y)):
            f.write("%s %s FP32 %d %d\n" % (kind, tensor_name, t.shape[0], t.shape[1]))
            for row in t.tolist():
                f.write(" ".join(repr(v) for v in row) + "\n")
    print("wrote", path)


def main():
    torch.manual_seed(20261126)
    quality = QualityPredictor()
    loss = train(
        quality,
        quality_data,
        lambda m, x, y: nn.functional.mse_loss(m(x), y),
        steps=1500,
        seed=1,
    )
    print("quality_predictor final mse", loss)
    routing = RoutingClassifier()
    loss = train(
        routing,
        routing_data,
        lambda m, x, y: nn.functional.nll_loss(torch.log(m(x) + 1e-9), y),
        steps=1500,
        seed=2,
    )
    print("routing_classifier final nll", loss)
    write(quality, "quality_predictor", 10, "ssim")
    write(routing, "routing_classifier", 15, "tier_probabilities")
    write_reference(quality, "quality_predictor", 10, "ssim", seed=3)
    write_reference(routing, "routing_classifier", 15, "tier_probabilities", seed=4)


if __name__ == "__main__":
    sys.exit(main())
