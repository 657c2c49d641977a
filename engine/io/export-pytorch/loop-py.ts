/**
 * The part of train.py every project shares: process setup (one process, or torchrun's DDP), the
 * quickstart's train() and test() loops, checkpoints in the agreed layout 2 (model_state_dict,
 * optimizer_state_dict, scheduler_state_dict, epoch, batch, step) and --resume. Python text, kept
 * as data; train-py.ts puts the project's parts (data, loss, optimizer, scheduler) in front of it.
 *
 * It relies on these names from those parts: EPOCHS, BATCH_SIZE, LEARNING_RATE, SHUFFLE, DROP_LAST,
 * SEED, CLIP_GRAD_NORM, CLASSIFICATION, SCHEDULER_INTERVAL, Model, model_parameters(), load_data(),
 * make_criterion(), make_optimizer(), make_scheduler(), compute_loss().
 */
export const LOOP_PY = String.raw`
def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="./data", help="dataset root (default: ./data)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs to train in all (default: {EPOCHS})")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"samples per batch and process (default: {BATCH_SIZE})")
    parser.add_argument("--lr", type=float, default=LEARNING_RATE, help=f"learning rate (default: {LEARNING_RATE})")
    parser.add_argument("--limit-train", type=int, default=None, metavar="N", help="train on the first N samples only (smoke runs)")
    parser.add_argument("--limit-test", type=int, default=None, metavar="N", help="test on the first N samples only")
    parser.add_argument("--checkpoint-dir", default="checkpoints", help="where epoch_<n>.pt and last.pt go (default: checkpoints)")
    parser.add_argument("--resume", default=None, metavar="FILE", help="continue from a checkpoint (train.py's or Netloom's .pt with optimizer)")
    parser.add_argument("--device", default=None, help='"cuda", "cpu", ... (default: cuda if available, else cpu)')
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default: {SEED})")
    return parser.parse_args()


def setup_processes(requested_device):
    """One process, or one of torchrun's (it sets RANK, WORLD_SIZE and LOCAL_RANK): (device, rank, world_size)."""
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    name = requested_device or ("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and distributed:
        name = f"cuda:{local_rank}"
    device = torch.device(name)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if distributed:
        # nccl between GPUs, gloo between CPU processes
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device, rank, world_size


def seed_epoch(seed, epoch, rank):
    """Dropout's random numbers depend only on (seed, epoch, rank), so a resumed run draws what an uninterrupted one does."""
    torch.manual_seed(seed + 1000 * epoch + rank)
    random.seed(seed + 1000 * epoch + rank)


def make_loaders(train_set, test_set, batch_size, seed, rank, world_size):
    """The training loader (each process gets its share) and the full test loader (only rank 0 tests)."""
    if world_size > 1:
        sampler = DistributedSampler(train_set, num_replicas=world_size, rank=rank, shuffle=SHUFFLE, seed=seed)
    elif SHUFFLE:
        # reseeded every epoch (set_epoch), as DistributedSampler does, so an epoch's order does not depend on earlier ones
        sampler = EpochRandomSampler(train_set, seed)
    else:
        sampler = None
    train_loader = DataLoader(train_set, batch_size=batch_size, sampler=sampler, drop_last=DROP_LAST)
    test_loader = DataLoader(test_set, batch_size=batch_size)
    return train_loader, test_loader


class EpochRandomSampler(torch.utils.data.Sampler):
    """A random order of the samples that is a function of (seed, epoch)."""

    def __init__(self, data, seed):
        self.size, self.seed, self.epoch = len(data), seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())

    def __len__(self):
        return self.size


def train(dataloader, model, criterion, optimizer, scheduler, device, world_size, skip_batches=0):
    """One epoch (the quickstart's train()); returns the optimizer steps taken."""
    size = len(dataloader.dataset)
    model.train()
    steps = 0
    for batch, (X, y) in enumerate(dataloader):
        if batch < skip_batches:
            continue  # done before the checkpoint this run resumed from
        X, y = X.to(device), y.to(device)
        loss, _ = compute_loss(model, X, y, criterion)
        optimizer.zero_grad()
        loss.backward()
        if CLIP_GRAD_NORM is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_GRAD_NORM)
        optimizer.step()
        if scheduler is not None and SCHEDULER_INTERVAL == "step":
            scheduler.step()
        steps += 1
        if batch % 100 == 0 and is_main_process():
            loss, current = loss.item(), min((batch + 1) * len(X) * world_size, size)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
    return steps


def test(dataloader, model, criterion, device):
    """The whole test split, in eval mode (the quickstart's test()); returns (accuracy or None, average loss)."""
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            loss, pred = compute_loss(model, X, y, criterion)
            test_loss += loss.item()
            if CLASSIFICATION:
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    if not CLASSIFICATION:
        print(f"Test Error: \n Avg loss: {test_loss:>8f} \n")
        return None, test_loss
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct, test_loss


def is_main_process():
    return not dist.is_initialized() or dist.get_rank() == 0


def scheduler_state(scheduler):
    """scheduler.state_dict() with plain values only, so the checkpoint holds data and no code."""
    state = dict(scheduler.state_dict())
    # torch 1.13's OneCycleLR keeps its annealing function (a bound method) in its state; a restored
    # scheduler already has it from its constructor
    state.pop("anneal_func", None)
    # MultiStepLR keeps its milestones as a collections.Counter: saved as a plain dict {epoch: count}
    if isinstance(state.get("milestones"), collections.Counter):
        state["milestones"] = dict(state["milestones"])
    if "_schedulers" in state:  # SequentialLR: its children's states
        state["_schedulers"] = [scheduler_state(child) for child in scheduler._schedulers]
    return state


def load_scheduler_state(scheduler, state):
    """scheduler.load_state_dict(state), putting back what scheduler_state() made plain."""
    if "_schedulers" in state:
        children = state["_schedulers"]
        state = {key: value for key, value in state.items() if key != "_schedulers"}
        scheduler.__dict__.update(state)
        for child, child_state in zip(scheduler._schedulers, children):
            load_scheduler_state(child, child_state)
        return
    scheduler.load_state_dict(state)
    if isinstance(getattr(scheduler, "milestones", None), dict):
        scheduler.milestones = collections.Counter(scheduler.milestones)


def save_checkpoint(path, model, optimizer, scheduler, epoch, step):
    """The agreed resumable layout (Netloom's Import Weights reads it); written to a temporary name, then renamed."""
    checkpoint = {
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
    }
    if scheduler is not None:
        checkpoint["scheduler_state_dict"] = scheduler_state(scheduler)
    checkpoint.update({"epoch": epoch, "batch": 0, "step": step})
    temporary = path + ".tmp"
    torch.save(checkpoint, temporary)
    os.replace(temporary, path)


def load_checkpoint(path, model, optimizer, scheduler, device):
    """Restores a resumable checkpoint; returns (epoch, batch, step) to continue from."""
    # a full checkpoint: torch 1.13's weights_only loader cannot read the optimizer's float settings,
    # so only resume from files you trust
    checkpoint = torch.load(path, map_location=device)
    missing = [key for key in ("model_state_dict", "optimizer_state_dict", "epoch") if key not in checkpoint]
    if missing:
        raise SystemExit(f"{path} is not a resumable checkpoint: it has no {', '.join(missing)}. "
                         "Resume from a file train.py wrote, or one Netloom saved as .pt with the optimizer.")
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    if scheduler is not None and "scheduler_state_dict" in checkpoint:
        load_scheduler_state(scheduler, checkpoint["scheduler_state_dict"])
    elif scheduler is not None:
        print(f"note: {path} has no scheduler state; the schedule restarts from its first step")
    return int(checkpoint["epoch"]), int(checkpoint.get("batch", 0)), int(checkpoint.get("step", 0))


def main():
    args = parse_args()
    device, rank, world_size = setup_processes(args.device)
    torch.manual_seed(args.seed)  # the same initial weights in every process
    train_set, test_set = load_data(args.data)
    if args.limit_train is not None:
        train_set = Subset(train_set, range(min(args.limit_train, len(train_set))))
    if args.limit_test is not None:
        test_set = Subset(test_set, range(min(args.limit_test, len(test_set))))
    train_loader, test_loader = make_loaders(train_set, test_set, args.batch_size, args.seed, rank, world_size)

    model = Model().to(device)
    criterion = make_criterion().to(device)
    optimizer = make_optimizer(model_parameters(model), args.lr)
    scheduler = make_scheduler(optimizer, len(train_loader), args.epochs)
    start_epoch, skip_batches, step = 0, 0, 0
    if args.resume:
        start_epoch, skip_batches, step = load_checkpoint(args.resume, model, optimizer, scheduler, device)
        if skip_batches and (SHUFFLE or world_size > 1):
            raise SystemExit(f"{args.resume} was saved {skip_batches} batches into epoch {start_epoch + 1}: resuming mid-epoch "
                             "needs the same batches in the same order, i.e. shuffle off and one process. "
                             "Resume from an epoch's checkpoint (checkpoints/epoch_<n>.pt) instead.")
        if is_main_process():
            print(f"Resuming from {args.resume}: {start_epoch} epoch(s) done" + (f", {skip_batches} batches into the next" if skip_batches else ""))
    # DDP averages the gradients of all processes; the checkpoints hold the plain model's state dict (no "module." prefix)
    trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world_size > 1 else model
    if is_main_process():
        os.makedirs(args.checkpoint_dir, exist_ok=True)

    for epoch in range(start_epoch, args.epochs):
        if is_main_process():
            print(f"Epoch {epoch + 1}\n-------------------------------")
        seed_epoch(args.seed, epoch, rank)
        if hasattr(train_loader.sampler, "set_epoch"):
            train_loader.sampler.set_epoch(epoch)
        step += train(train_loader, trained, criterion, optimizer, scheduler, device, world_size, skip_batches)
        skip_batches = 0
        if scheduler is not None and SCHEDULER_INTERVAL == "epoch":
            scheduler.step()
        if is_main_process():
            # rank 0 tests the whole test split with the plain model while the others wait
            test(test_loader, model, criterion, device)
            for name in (f"epoch_{epoch + 1}.pt", "last.pt"):
                save_checkpoint(os.path.join(args.checkpoint_dir, name), model, optimizer, scheduler, epoch + 1, step)
        if world_size > 1:
            dist.barrier()
    if is_main_process():
        print("Done!")
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
