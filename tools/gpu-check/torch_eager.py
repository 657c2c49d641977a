"""PyTorch eager on the GPU machine: the baselines run.sh sets beside Netloom's CUDA epochs.

  quickstart-b64   the PyTorch quickstart's model, SGD lr 1e-3, batch 64: with the tutorial's
                   DataLoader (CPU tensors moved per batch) and with the tensors already on the GPU
  fashion-cnn-b256 the fashion-cnn template's model (conv-BN-ReLU-pool x2, Linear 128, Dropout 0.25),
                   Adam lr 1e-3, batch 256, tensors on the GPU

FashionMNIST is read from the same raw IDX files bench_cuda reads: "torch-tutorial" through
torchvision's FashionMNIST dataset with ToTensor, as the tutorial writes it (when torchvision is
there), "torch-dataloader" through a DataLoader over a TensorDataset (numpy; faster than the
tutorial's per-sample ToTensor), "torch-gpu" with the tensors already on the GPU. TF32 is on for matmul and convolution, as
Netloom's CUDA backend has it by default. Each prints "RESULT <name> <config> <seconds> <mean loss>
<accuracy> <test accuracy>" for one timed epoch after a short warm-up; the quickstart's epoch
includes the tutorial's test pass over the 10,000 test images (the issue's "test pass included").

  python3 torch_eager.py <FashionMNIST raw folder>
"""
import os
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset


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


def tutorial_datasets(raw):
    """The tutorial's own data path: torchvision's FashionMNIST with ToTensor (one PIL image turned into
    a tensor per sample), over the same raw files; None where torchvision is missing."""
    try:
        from torchvision import datasets
        from torchvision.transforms import ToTensor
    except ImportError:
        return None
    root = tempfile.mkdtemp()
    os.makedirs(f'{root}/FashionMNIST/raw')
    for f in ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'):
        os.symlink(os.path.abspath(f'{raw}/{f}'), f'{root}/FashionMNIST/raw/{f}')
    train = datasets.FashionMNIST(root=root, train=True, download=False, transform=ToTensor())
    test = datasets.FashionMNIST(root=root, train=False, download=False, transform=ToTensor())
    return train, test


def test_pass(model, batches, device):
    """The tutorial's test(): eval mode, no grad, the loss and the correct count read back per batch."""
    loss_fn = nn.CrossEntropyLoss()
    model.eval()
    correct = seen = 0
    with torch.no_grad():
        for x, y in batches():
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            pred = model(x)
            loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
            seen += len(y)
    return correct / seen


def timed(name, config, make_model, make_opt, batches, warm, test=None):
    """One timed epoch after a warm-up; with `test`, the test pass is inside the timing (issue 16's epoch)."""
    torch.manual_seed(0)
    device = 'cuda'
    model = make_model().to(device)
    opt = make_opt(model)
    epoch(model, opt, warm, device)
    t0 = time.perf_counter()
    loss, acc = epoch(model, opt, batches, device)
    test_acc = test_pass(model, test, device) if test else float('nan')
    torch.cuda.synchronize()
    sec = time.perf_counter() - t0
    print(f'RESULT {name} {config} {sec:.3f} {loss:.4f} {acc:.4f} {test_acc:.4f}', flush=True)


def main():
    raw = sys.argv[1]
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    images = read_idx(f'{raw}/train-images-idx3-ubyte', 3)
    labels = read_idx(f'{raw}/train-labels-idx1-ubyte', 1).astype(np.int64)
    x_cpu = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y_cpu = torch.from_numpy(labels)
    x_gpu, y_gpu = x_cpu.cuda(), y_cpu.cuda()
    tx_cpu = torch.from_numpy(read_idx(f'{raw}/t10k-images-idx3-ubyte', 3).astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    ty_cpu = torch.from_numpy(read_idx(f'{raw}/t10k-labels-idx1-ubyte', 1).astype(np.int64))
    tx_gpu, ty_gpu = tx_cpu.cuda(), ty_cpu.cuda()
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
    test_loader = lambda: DataLoader(TensorDataset(tx_cpu, ty_cpu), batch_size=64)

    def test_gpu():
        for k in range(0, len(tx_gpu), 64):
            yield tx_gpu[k:k + 64], ty_gpu[k:k + 64]
    # The tutorial word for word (torchvision dataset, ToTensor, DataLoader batch 64); a failure here
    # is reported and the other baselines still run.
    try:
        tutorial = tutorial_datasets(raw)
        if tutorial:
            train_ds, test_ds = tutorial
            timed('torch-tutorial', 'quickstart-b64', quickstart, sgd, lambda: DataLoader(train_ds, batch_size=64),
                  lambda: DataLoader(Subset(train_ds, range(64 * 20)), batch_size=64), lambda: DataLoader(test_ds, batch_size=64))
        else:
            print('torch-tutorial: no torchvision; the TensorDataset DataLoader below stands in', flush=True)
    except Exception as e:   # noqa: BLE001 (a baseline's failure must not end the comparison)
        print(f'torch-tutorial failed: {e!r}', flush=True)
    timed('torch-dataloader', 'quickstart-b64', quickstart, sgd, loader(64), loader(64, 64 * 20), test_loader)
    timed('torch-gpu', 'quickstart-b64', quickstart, sgd, on_gpu(64), on_gpu(64, 64 * 20), test_gpu)
    timed('torch-gpu', 'fashion-cnn-b256', fashion_cnn, adam, on_gpu(256, shuffle=True), on_gpu(256, 256 * 20, True))


if __name__ == '__main__':
    main()
