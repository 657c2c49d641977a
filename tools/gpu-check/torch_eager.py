"""PyTorch eager on the GPU machine: the baselines run.sh sets beside Netloom's CUDA epochs.

  quickstart-b64   the PyTorch quickstart's model, SGD lr 1e-3, batch 64: once with the tutorial's
                   DataLoader (CPU tensors moved per batch) and once with the tensors already on the GPU
  fashion-cnn-b256 the fashion-cnn template's model (conv-BN-ReLU-pool x2, Linear 128, Dropout 0.25),
                   Adam lr 1e-3, batch 256, tensors on the GPU

The FashionMNIST training split is read from the same raw IDX files bench_cuda reads (numpy; no
torchvision). TF32 is on for matmul and convolution, as Netloom's CUDA backend has it by default.
Each prints "RESULT <name> <config> <seconds> <mean loss> <accuracy>" for one timed epoch after a
short warm-up.

  python3 torch_eager.py <FashionMNIST raw folder>
"""
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def read_idx(path, dims):
    with open(path, 'rb') as f:
        raw = f.read()
    shape = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], 'big') for k in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def quickstart():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def fashion_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


def epoch(model, opt, batches, device):
    """One pass; the loss is read back once at the end (the tutorial reads it every 100 batches)."""
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    total = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    n = seen = 0
    for k, (x, y) in enumerate(batches()):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        pred = model(x)
        loss = loss_fn(pred, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        total += loss.detach()
        correct += (pred.argmax(1) == y).sum()
        n += 1
        seen += len(y)
        if k % 100 == 0:
            loss.item()   # the tutorial's progress print synchronises here
    torch.cuda.synchronize()
    return total.item() / n, correct.item() / seen


def timed(name, config, make_model, make_opt, batches, warm):
    torch.manual_seed(0)
    device = 'cuda'
    model = make_model().to(device)
    opt = make_opt(model)
    epoch(model, opt, warm, device)
    t0 = time.perf_counter()
    loss, acc = epoch(model, opt, batches, device)
    sec = time.perf_counter() - t0
    print(f'RESULT {name} {config} {sec:.3f} {loss:.4f} {acc:.4f}', flush=True)


def main():
    raw = sys.argv[1]
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    images = read_idx(f'{raw}/train-images-idx3-ubyte', 3)
    labels = read_idx(f'{raw}/train-labels-idx1-ubyte', 1).astype(np.int64)
    x_cpu = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y_cpu = torch.from_numpy(labels)
    x_gpu, y_gpu = x_cpu.cuda(), y_cpu.cuda()
    print(f'torch {torch.__version__}, {torch.cuda.get_device_name(0)}', flush=True)

    def loader(batch, count=None):
        ds = TensorDataset(x_cpu[:count], y_cpu[:count])
        return lambda: DataLoader(ds, batch_size=batch)

    def on_gpu(batch, count=None, shuffle=False):
        m = len(x_gpu) if count is None else count

        def gen():
            order = torch.randperm(m, device='cuda') if shuffle else torch.arange(m, device='cuda')
            for k in range(0, m, batch):
                idx = order[k:k + batch]
                yield x_gpu[idx], y_gpu[idx]
        return gen

    sgd = lambda m: torch.optim.SGD(m.parameters(), lr=1e-3)
    adam = lambda m: torch.optim.Adam(m.parameters(), lr=1e-3)
    timed('torch-dataloader', 'quickstart-b64', quickstart, sgd, loader(64), loader(64, 64 * 20))
    timed('torch-gpu', 'quickstart-b64', quickstart, sgd, on_gpu(64), on_gpu(64, 64 * 20))
    timed('torch-gpu', 'fashion-cnn-b256', fashion_cnn, adam, on_gpu(256, shuffle=True), on_gpu(256, 256 * 20, True))


if __name__ == '__main__':
    main()
