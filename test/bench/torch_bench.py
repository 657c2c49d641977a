#!/usr/bin/python3
"""PyTorch CPU throughput on the same workloads as `npm run bench` (Netloom's own copy of the anchor script).

Pure compute, tensors preloaded in memory, no DataLoader. Workloads and timing are the anchor's:
model in {mlp (the quickstart MLP 784-512-512-10), cnn (Conv2d(1,32,3)-ReLU-Conv2d(32,64,3)-ReLU-MaxPool2d(2)-
Flatten-Linear(9216,128)-ReLU-Linear(128,10))} x batch x optimizer in {sgd (lr 1e-3), adam (lr 1e-3)},
plus inference. Input: the FashionMNIST train images read from the IDX files under
<root>/FashionMNIST/raw (torchvision's layout) as one float32 [N,1,28,28] tensor in [0,1] (what ToTensor
gives), labels int64; each step takes the next contiguous slice (wrapping to 0 at the end).

train samples/s : forward + CrossEntropyLoss + backward + optimizer.step() + zero_grad(), batch / step time
infer samples/s : model.eval(), torch.no_grad(), forward only
One repeat: --warmup steps (before the first repeat of a workload; 1 step before later ones), then steps
until --min-time seconds have passed (at least --min-steps, at most --max-steps). Repeated --repeats times
-> median and min..max.

Standalone:  /usr/bin/python3 torch_bench.py --root assets/datasets [--models mlp cnn] [--batches 64 256]
                 [--opts sgd adam] [--threads 2] [--repeats 3] [--min-time 2]
             prints a table and, as its last line, one JSON object with all results.
Serve mode (used by bench.js so that Netloom and PyTorch runs alternate in one invocation):
             --serve: reads one JSON request per line on stdin and answers one JSON line on stdout:
               {"cmd":"info"}                                   -> versions, BLAS, threads
               {"cmd":"run","model":"mlp"|"cnn","batch":64,"mode":"train"|"infer","opt":"sgd"|"adam"|"-"}
                 (optional "min_time", "min_steps", "max_steps", "warmup" override the command line for
                 this request: bench.js gives the cnn a shorter --cnn-min-time)
                 -> one timed repeat: {"ok":true,"sec_per_step":..,"steps":..,"samples_per_s":..,"cpu_busy":..}
               {"cmd":"quit"}                                   -> {"ok":true,"peak_rss_mib":..}, exit
             Logs go to stderr.

Fair configuration (see the README's benchmark section): OpenBLAS OpenMP build via
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp, LD_PRELOAD jemalloc,
MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1, OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, and
torch.set_num_threads(--threads). bench.js sets all of that up for this process.
"""
import argparse, ctypes, json, os, platform, resource, statistics, sys, time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


# ----- models and FLOPs -------------------------------------------------------------------------

def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10))


MODELS = {"mlp": mlp, "cnn": cnn}


def flops_per_sample(model):
    """Multiply-add FLOPs (2 per MAC) of one forward pass; training is counted as 3x forward."""
    f, hw = 0, 28
    for m in model:
        if isinstance(m, nn.Conv2d):
            hw = hw - m.kernel_size[0] + 1
            f += 2 * hw * hw * m.out_channels * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.MaxPool2d):
            hw //= 2
        elif isinstance(m, nn.Linear):
            f += 2 * m.in_features * m.out_features
    return f


# ----- environment report (what the anchors' sysinfo.py does) -----------------------------------

def loaded_libs():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if p.startswith("/") and any(k in os.path.basename(p) for k in ("blas", "lapack", "blis", "dnnl", "mkl", "gomp", "jemalloc")):
                libs.add(p)
    return sorted(libs)


def blas_kind():
    """Which BLAS (and which OpenBLAS kernel) this process runs, as one string."""
    kind = "?"
    for p in loaded_libs():
        rp = os.path.realpath(p)
        if "openblas" in rp:
            kind = "OpenBLAS"
            lib = ctypes.CDLL(p)
            for fn in ("openblas_get_corename", "openblas_get_config"):
                f = getattr(lib, fn, None)
                if f is not None:
                    f.restype = ctypes.c_char_p
                    kind += (" core=" if fn == "openblas_get_corename" else " ") + f().decode()
            return kind, rp
        if "blis" in rp:
            return "BLIS", rp
        if "/blas/libblas" in rp:
            kind = "reference BLAS (netlib, libblas3: 20-70x slow, not a fair comparison)"
    return kind, ""


def info(threads):
    kind, lib = blas_kind()
    env = {k: os.environ.get(k, "<unset>") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
                                                      "LD_LIBRARY_PATH", "LD_PRELOAD", "MALLOC_CONF")}
    return {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "threads": torch.get_num_threads(), "requested_threads": threads, "blas": kind, "blas_lib": lib,
            "jemalloc": any("jemalloc" in p for p in loaded_libs()), "env": env}


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# ----- data and timing --------------------------------------------------------------------------

def load_images(root):
    def idx(path):
        with open(path, "rb") as fh:
            data = fh.read()
        nd = data[3]
        return np.frombuffer(data, np.uint8, offset=4 + 4 * nd)
    raw = os.path.join(root, "FashionMNIST", "raw")
    x = torch.from_numpy(idx(os.path.join(raw, "train-images-idx3-ubyte")).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    y = torch.from_numpy(idx(os.path.join(raw, "train-labels-idx1-ubyte")).astype(np.int64))
    return x, y


def timed(step, warmup, min_time, min_steps, max_steps):
    for _ in range(warmup):
        step()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        step(); n += 1
        t = time.perf_counter() - t0
        if (t >= min_time and n >= min_steps) or n >= max_steps:
            # also: process CPU seconds per wall second (~threads when it had its cores)
            return t / n, n, (time.process_time() - c0) / t


class Workloads:
    """One model (+ optimizer) per workload, built on first use (torch.manual_seed(0)) and kept, so that
    later repeats continue the same run, as the anchor's in-process repeats do."""

    def __init__(self, X, Y):
        self.X, self.Y, self.N = X, Y, X.shape[0]
        self.loss_fn = nn.CrossEntropyLoss()
        self.steps = {}

    def get(self, model_name, batch, mode, opt_name):
        if model_name not in MODELS:
            raise ValueError(f"unknown model {model_name!r} (one of {', '.join(sorted(MODELS))})")
        if mode not in ("train", "infer") or (mode == "train" and opt_name not in ("sgd", "adam")):
            raise ValueError(f"bad mode/opt {mode!r}/{opt_name!r}")
        key = (model_name, batch, mode, opt_name)
        if key in self.steps:
            return self.steps[key], False
        torch.manual_seed(0)
        model = MODELS[model_name]()
        X, Y, N, loss_fn = self.X, self.Y, self.N, self.loss_fn
        pos = [0]
        if mode == "train":
            model.train()
            opt = (torch.optim.SGD(model.parameters(), lr=1e-3) if opt_name == "sgd"
                   else torch.optim.Adam(model.parameters(), lr=1e-3))

            def step():
                i = pos[0]
                if i + batch > N:
                    i = 0
                pos[0] = i + batch
                loss = loss_fn(model(X[i:i + batch]), Y[i:i + batch])
                loss.backward()
                opt.step()
                opt.zero_grad()
        else:
            model.eval()

            def step():
                i = pos[0]
                if i + batch > N:
                    i = 0
                pos[0] = i + batch
                with torch.no_grad():
                    model(X[i:i + batch])
        self.steps[key] = step
        return step, True


def serve(a, W):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd == "info":
                out = {"ok": True, **info(a.threads), "train_samples": int(W.N)}
            elif cmd == "run":
                step, fresh = W.get(req["model"], int(req["batch"]), req["mode"], req.get("opt", "-"))
                s, n, busy = timed(step, int(req.get("warmup", a.warmup)) if fresh else 1, float(req.get("min_time", a.min_time)),
                                   int(req.get("min_steps", a.min_steps)), int(req.get("max_steps", a.max_steps)))
                out = {"ok": True, "sec_per_step": s, "steps": n, "samples_per_s": int(req["batch"]) / s, "cpu_busy": busy}
            elif cmd == "quit":
                print(json.dumps({"ok": True, "peak_rss_mib": round(peak_rss_mib(), 1)}), flush=True)
                return
            else:
                out = {"ok": False, "error": f"unknown cmd {cmd!r}"}
        except Exception as e:  # report, keep serving
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


def standalone(a, W):
    rows = []
    for model_name in a.models:
        for batch in a.batches:
            for mode, opt_name in [("train", o) for o in a.opts] + [("infer", "-")]:
                step, _ = W.get(model_name, batch, mode, opt_name)
                stats = [timed(step, a.warmup if k == 0 else 1, a.min_time, a.min_steps, a.max_steps) for k in range(a.repeats)]
                sps = [batch / s for s, _, _ in stats]
                fps = flops_per_sample(MODELS[model_name]()) * (3 if mode == "train" else 1)
                r = {"model": model_name, "batch": batch, "mode": mode, "opt": opt_name,
                     "samples_per_s_median": round(statistics.median(sps), 1), "samples_per_s_min": round(min(sps), 1),
                     "samples_per_s_max": round(max(sps), 1),
                     "ms_per_step_median": round(1e3 * batch / statistics.median(sps), 3),
                     "steps_timed": [n for _, n, _ in stats], "gflops_effective": round(statistics.median(sps) * fps / 1e9, 1)}
                rows.append(r)
                print(f"{model_name:4s} b={batch:<4d} {mode:5s} {opt_name:5s} {r['samples_per_s_median']:10.0f} samples/s "
                      f"(min {r['samples_per_s_min']:.0f}, max {r['samples_per_s_max']:.0f}; "
                      f"{r['ms_per_step_median']:.2f} ms/step; steps {r['steps_timed']}; ~{r['gflops_effective']} GFLOP/s)",
                      file=sys.stderr, flush=True)
    rss = peak_rss_mib()
    print(f"{'model':5s} {'batch':>5s} {'mode':5s} {'opt':5s} {'samples/s':>10s} {'min':>9s} {'max':>9s} {'ms/step':>8s}")
    for r in rows:
        print(f"{r['model']:5s} {r['batch']:5d} {r['mode']:5s} {r['opt']:5s} {r['samples_per_s_median']:10.0f} "
              f"{r['samples_per_s_min']:9.0f} {r['samples_per_s_max']:9.0f} {r['ms_per_step_median']:8.2f}")
    print(f"peak RSS {rss:.0f} MiB (includes the {W.X.numel() * 4 / 2**20:.0f} MiB float32 image tensor)")
    print(json.dumps({"bench": "torch_bench", "info": info(a.threads), "repeats": a.repeats, "min_time_s": a.min_time,
                      "max_steps": a.max_steps, "peak_rss_mib": round(rss, 1), "rows": rows}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.join(HERE, "..", "..", "assets", "datasets"),
                    help="torchvision-style data root holding FashionMNIST/raw/*-ubyte (default: the repo's built-in copy)")
    ap.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=sorted(MODELS))
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--opts", nargs="+", default=["sgd", "adam"], choices=["sgd", "adam"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--min-time", type=float, default=2.0)
    ap.add_argument("--min-steps", type=int, default=10)
    ap.add_argument("--max-steps", type=int, default=600)
    ap.add_argument("--serve", action="store_true", help="answer JSON requests on stdin (see the module doc)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    i = info(a.threads)
    print(f"torch {i['torch']}, threads {i['threads']}, BLAS: {i['blas']}, jemalloc: {i['jemalloc']}", file=sys.stderr, flush=True)
    X, Y = load_images(a.root)
    W = Workloads(X, Y)
    if a.serve:
        serve(a, W)
    else:
        standalone(a, W)


if __name__ == "__main__":
    main()
