#!/usr/bin/env python3
"""The PyTorch peer of `cnn-train`: the same 784-512-10 MLP, trained the same way.

Same model (Linear-ReLU-Linear, weights (out, in)), same initialisation scheme
(He/Kaiming normal: W ~ N(0, 2/fan_in), zero biases), same optimiser (SGD with
momentum and weight decay, PyTorch's formulation, which cnn-train implements),
same batch size, learning rate and loss (mean softmax cross-entropy), same data
handling: the IDX .gz files are read here (gzip + struct), the uint8 images
and labels are put on the device once, each batch is gathered and normalised on
the fly as x = pixel * scale + shift with scale = 1 / (255 std) and shift =
-mean / std from the training pixels, a new shuffle every epoch, the last
incomplete batch dropped, and an evaluation on the whole test set after every
epoch, stopping at the first one that reaches the target accuracy. FP32
throughout (TF32 off).

Timing: the clock starts after the data is on the device and a warm-up step has
initialised CUDA and cuBLAS (on a throwaway model), and the device is
synchronised before every reading, as cnn-train does at its window edges.

Prints one JSON object on stdout (progress goes to stderr):
  time_to_target_s, reached, target_epoch, epoch_times_s, test_acc, test_loss,
  train_loss, total_s, and the settings.

Example: python3 tools/peer_bench/torch_mlp.py --data-dir ../shared/data/mnist \
           --device cuda --target-acc 0.96
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch


def read_idx(path):
    """Returns (shape, bytes) of an IDX file (gzip-compressed or not), checking its header."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: too short to be an IDX file")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    if len(body) != math.prod(shape):
        raise ValueError(f"{path}: header says {shape} ({math.prod(shape)} bytes) but {len(body)} bytes follow")
    return shape, body


def find_file(data_dir, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{data_dir}: neither {stem}.gz nor {stem} exists")


def load_split(data_dir, images_stem, labels_stem, device):
    ishape, ibytes = read_idx(find_file(data_dir, images_stem))
    lshape, lbytes = read_idx(find_file(data_dir, labels_stem))
    if len(ishape) != 3 or len(lshape) != 1 or ishape[0] != lshape[0]:
        raise ValueError(f"{data_dir}: images {ishape} and labels {lshape} do not match")
    n, rows, cols = ishape
    images = torch.frombuffer(bytearray(ibytes), dtype=torch.uint8).reshape(n, rows * cols)
    labels = torch.frombuffer(bytearray(lbytes), dtype=torch.uint8).to(torch.int64)
    return images.to(device), labels.to(device)


def make_model(in_dim, hidden, n_classes, device, generator):
    sizes = [in_dim] + hidden + [n_classes]
    layers = []
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        with torch.no_grad():
            lin.weight.normal_(0.0, math.sqrt(2.0 / sizes[i]), generator=generator)  # He/Kaiming normal
            lin.bias.zero_()
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", required=True, help="folder with the four MNIST-style IDX(.gz) files")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--hidden", default="512", help="comma-separated hidden sizes [512]")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--target-acc", type=float, default=0.96)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    ap.add_argument("--eval-batch", type=int, default=1000, help="rows per evaluation chunk (cnn-train: 1000)")
    args = ap.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_mlp.py: --device cuda but torch sees no GPU (use --device cpu)")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False  # FP32, like cnn-train
    torch.backends.cudnn.allow_tf32 = False
    hidden = [int(h) for h in args.hidden.split(",") if h]

    train_x, train_y = load_split(args.data_dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", device)
    test_x, test_y = load_split(args.data_dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", device)
    n_train, in_dim = train_x.shape
    n_classes = int(max(train_y.max().item(), test_y.max().item())) + 1
    # Normalisation from the training pixels, in [0, 1] units (as cnn-train computes it).
    pix = train_x.to(torch.float64) / 255.0
    mean = pix.mean().item()
    std = math.sqrt(max((pix * pix).mean().item() - mean * mean, 1e-12))
    del pix
    scale, shift = 1.0 / (255.0 * std), -mean / std

    gen = torch.Generator().manual_seed(args.seed)
    dev_gen = torch.Generator(device=device).manual_seed(args.seed)
    loss_fn = torch.nn.CrossEntropyLoss()

    def batch_of(x, idx):
        return x[idx].to(torch.float32) * scale + shift

    def train_step(model, opt, idx):
        xb = batch_of(train_x, idx)
        loss = loss_fn(model(xb), train_y[idx])
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        return loss.detach()

    @torch.no_grad()
    def evaluate(model):
        loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        for start in range(0, test_x.shape[0], args.eval_batch):
            xb = test_x[start:start + args.eval_batch].to(torch.float32) * scale + shift
            yb = test_y[start:start + args.eval_batch]
            logits = model(xb)
            loss_sum += torch.nn.functional.cross_entropy(logits, yb, reduction="sum").to(torch.float64)
            correct += (logits.argmax(dim=1) == yb).sum()
        n = test_x.shape[0]
        return loss_sum.item() / n, correct.item() / n  # .item() synchronises

    # Warm-up on a throwaway model: CUDA context, cuBLAS handles, the caching allocator.
    warm = make_model(in_dim, hidden, n_classes, device, torch.Generator().manual_seed(12345))
    warm_opt = torch.optim.SGD(warm.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    for _ in range(3):
        train_step(warm, warm_opt, torch.arange(args.batch, device=device))
    evaluate(warm)
    del warm, warm_opt
    sync(device)

    model = make_model(in_dim, hidden, n_classes, device, gen)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    steps_per_epoch = n_train // args.batch  # the last incomplete batch is dropped
    result = {
        "framework": "pytorch", "torch_version": torch.__version__, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "model": "mlp " + "-".join(str(s) for s in [in_dim] + hidden + [n_classes]),
        "batch": args.batch, "lr": args.lr, "momentum": args.momentum, "weight_decay": args.weight_decay,
        "seed": args.seed, "target_acc": args.target_acc, "n_train": n_train, "n_test": int(test_x.shape[0]),
        "steps_per_epoch": steps_per_epoch, "reached": False, "time_to_target_s": None, "target_epoch": None,
        "epoch_times_s": [], "test_acc": [], "test_loss": [], "train_loss": [], "elapsed_s": [],
    }
    sync(device)
    t0 = time.perf_counter()
    t_epoch = t0
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(n_train, device=device, generator=dev_gen)
        loss_sum = torch.zeros((), device=device)
        for s in range(steps_per_epoch):
            loss_sum += train_step(model, opt, perm[s * args.batch:(s + 1) * args.batch])
        test_loss, test_acc = evaluate(model)
        train_loss = loss_sum.item() / steps_per_epoch
        sync(device)
        now = time.perf_counter()
        result["epoch_times_s"].append(now - t_epoch)
        result["elapsed_s"].append(now - t0)
        result["test_acc"].append(test_acc)
        result["test_loss"].append(test_loss)
        result["train_loss"].append(train_loss)
        print(f"epoch {epoch:3d}  loss {train_loss:.4f}  test loss {test_loss:.4f}  test acc {test_acc:.4f}  "
              f"elapsed {now - t0:7.2f} s", file=sys.stderr)
        t_epoch = now
        if args.target_acc > 0 and test_acc >= args.target_acc:
            result.update(reached=True, time_to_target_s=now - t0, target_epoch=epoch)
            break
    result["total_s"] = time.perf_counter() - t0
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0 if result["reached"] or args.target_acc <= 0 else 3


if __name__ == "__main__":
    sys.exit(main())
