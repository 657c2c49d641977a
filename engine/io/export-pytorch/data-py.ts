/**
 * train.py's load_data(root) -> (train_set, test_set), for each kind of dataset a project may use,
 * reading the files Netloom reads the way Netloom reads them (so a sample is the same tensor on
 * both sides), with no torchvision needed:
 *
 *   built-in MNIST, FashionMNIST, KMNIST   torchvision's layout <root>/<Title>/raw/*-ubyte[.gz]; pixels / 255
 *   built-in CIFAR10                       Netloom's binary version, <root>/CIFAR10/raw/cifar-10-batches-bin/
 *                                          (or its .tar.gz), read without pickle
 *   CSV                                    the csv module; Netloom's class order, stratified split (its seeded
 *                                          generator, ported) and standardisation with the training split's statistics
 *   image folder                           PIL (Pillow) in ImageFolder's layout, Netloom's split
 */
import { BUILTIN_DATASETS } from '../../contract/datasets.js';
import type { CsvDatasetDoc, DatasetDoc, ImageFolderDatasetDoc } from '../../graph/document.js';
import { pyStr, pyValue } from './python.js';

const READ_IDX = String.raw`
def read_idx(path):
    """An IDX file (MNIST's format, as torchvision reads it), plain or gzipped: a uint8 tensor of its sizes."""
    for name in (path, path + ".gz"):
        if os.path.exists(name):
            with (gzip.open if name.endswith(".gz") else open)(name, "rb") as f:
                data = f.read()
            break
    else:
        raise SystemExit(f"{path} (or {path}.gz) is missing. Point --data at the folder that holds {DATASET_TITLE}/raw/ "
                         "(torchvision's layout), or let torchvision download it there.")
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{name} is not an IDX file of unsigned bytes")
    sizes = struct.unpack(f">{rank}I", data[4:4 + 4 * rank])
    payload = data[4 + 4 * rank:]
    if len(payload) != math.prod(sizes):
        raise SystemExit(f"{name} is truncated: {len(payload)} bytes for sizes {sizes}")
    return torch.frombuffer(bytearray(payload), dtype=torch.uint8).reshape(sizes)


def load_data(root):
    """{DATASET_TITLE} from <root>/{DATASET_TITLE}/raw/: images as float32 [N, 1, 28, 28] in [0, 1] (ToTensor()), labels as int64."""
    raw = os.path.join(root, DATASET_TITLE, "raw")

    def split(prefix):
        images = read_idx(os.path.join(raw, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(os.path.join(raw, f"{prefix}-labels-idx1-ubyte"))
        return TensorDataset(images.unsqueeze(1).float().div(255), labels.long())

    return split("train"), split("t10k")
`;

const READ_CIFAR = String.raw`
CIFAR_TRAIN = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"]


def cifar_bytes(raw, names):
    """The named .bin batches from raw/cifar-10-batches-bin/, or from raw/cifar-10-binary.tar.gz."""
    folder = os.path.join(raw, "cifar-10-batches-bin")
    if all(os.path.exists(os.path.join(folder, n)) for n in names):
        return b"".join(open(os.path.join(folder, n), "rb").read() for n in names)
    archive = os.path.join(raw, "cifar-10-binary.tar.gz")
    if not os.path.exists(archive):
        raise SystemExit(f"No CIFAR-10 under {raw}: it needs cifar-10-batches-bin/ or cifar-10-binary.tar.gz (the binary "
                         "version from https://www.cs.toronto.edu/~kriz/cifar.html, as Netloom downloads it)")
    with tarfile.open(archive, "r:gz") as tar:
        return b"".join(tar.extractfile(f"cifar-10-batches-bin/{n}").read() for n in names)


def load_data(root):
    """CIFAR10 from <root>/CIFAR10/raw/: images float32 [N, 3, 32, 32] in [0, 1], labels int64 (torchvision's order)."""
    raw = os.path.join(root, DATASET_TITLE, "raw")

    def split(names):
        # each record: 1 label byte, then 3072 pixel bytes (red, green, blue planes: CHW)
        records = torch.frombuffer(bytearray(cifar_bytes(raw, names)), dtype=torch.uint8).reshape(-1, 3073)
        return TensorDataset(records[:, 1:].reshape(-1, 3, 32, 32).float().div(255), records[:, 0].long())

    return split(CIFAR_TRAIN), split(["test_batch.bin"])
`;

/** Netloom's seeded generator (engine/rng.ts) and stratified split (engine/data/split.ts), so the held-out rows are Netloom's. */
const NETLOOM_SPLIT = String.raw`
class NetloomRng:
    """Netloom's random numbers (engine/rng.ts): xoshiro128** seeded by splitmix64, forked by label."""
    M32, M64, GOLDEN = (1 << 32) - 1, (1 << 64) - 1, 0x9E3779B97F4A7C15

    def __init__(self, seed=0, key=None):
        self.key = seed % (1 << 64) if key is None else key
        a, b = self.mix64(self.key + self.GOLDEN), self.mix64(self.key + 2 * self.GOLDEN)
        self.s = [a & self.M32, a >> 32, b & self.M32, b >> 32]
        if self.s == [0, 0, 0, 0]:
            self.s[0] = 1

    @classmethod
    def mix64(cls, x):
        z = x & cls.M64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & cls.M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & cls.M64
        return z ^ (z >> 31)

    def fork(self, label):
        h = 0xCBF29CE484222325
        for byte in label.encode("utf-8"):
            h = ((h ^ byte) * 0x100000001B3) & self.M64
        return NetloomRng(key=self.mix64(self.key ^ self.mix64(h ^ 0x5851F42D4C957F2D)))

    def next_u32(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (32 - k))) & self.M32
        result = (rotl((s[1] * 5) & self.M32, 7) * 9) & self.M32
        t = (s[1] << 9) & self.M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result

    def below(self, n):
        threshold = (1 << 32) % n
        while True:
            r = self.next_u32()
            if r >= threshold:
                return r % n

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]
        return a


def netloom_split(count, fraction, labels=None, seed=0):
    """Netloom's validation split (engine/data/split.ts): (train rows, held-out rows), stratified by class when labels are given."""
    n_val = 0 if fraction == 0 or count < 2 else min(count - 1, max(1, int(math.floor(count * fraction + 0.5))))
    rng = NetloomRng(seed).fork("validation-split")
    held = [False] * count
    if n_val and labels is None:
        for i in rng.shuffle(list(range(count)))[:n_val]:
            held[i] = True
    elif n_val:
        groups = {}
        for i, y in enumerate(labels):
            groups.setdefault(y, []).append(i)
        classes = sorted(groups)
        size = [len(groups[k]) for k in classes]
        target = [n_val * c / count for c in size]
        take = [min(math.floor(t), max(c - 1, 0)) for t, c in zip(target, size)]
        left = n_val - sum(take)
        by_remainder = sorted(range(len(classes)), key=lambda j: (-(target[j] - take[j]), j))
        while left > 0:
            placed = False
            for j in by_remainder:
                if left == 0:
                    break
                if take[j] < size[j] - 1:
                    take[j] += 1
                    left -= 1
                    placed = True
            if not placed:
                break
        for j, k in enumerate(classes):
            for i in rng.shuffle(list(groups[k]))[:take[j]]:
                held[i] = True
    return [i for i in range(count) if not held[i]], [i for i in range(count) if held[i]]
`;

const READ_CSV = String.raw`
NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def natural_key(label):
    """Netloom's class order for non-numeric labels: digit runs compare as numbers, the rest by code point."""
    return [(0, len(c.lstrip("0") or "0"), c.lstrip("0") or "0") if c.isdigit() else (1, c, "") for c in re.findall(r"\d+|\D+", label)], label


def number(text):
    """A CSV value as Netloom reads it: a number, or one with a decimal comma (1,5)."""
    text = text.strip()
    return float(text) if NUMBER.match(text) else float(text.replace(",", ".", 1))


def load_data(root):
    """The CSV file, as Netloom reads it: features float32, labels int64 class indices (or float targets)."""
    path = CSV_PATH if os.path.isabs(CSV_PATH) else os.path.join(root, CSV_PATH)
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read()
    delimiter = CSV_DELIMITER or max([",", ";", "\t"], key=lambda d: text.split("\n", 1)[0].count(d))
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(field.strip() for field in r)]
    header = rows.pop(0) if CSV_HEADER else [str(i) for i in range(len(rows[0]))]
    if CSV_LABEL not in header:
        raise SystemExit(f"{path} has no column {CSV_LABEL!r} (columns: {', '.join(header)})")
    features = [c for c in header if c != CSV_LABEL] if CSV_FEATURES is None else CSV_FEATURES
    columns = [header.index(c) for c in features]
    label_column = header.index(CSV_LABEL)
    try:
        x = [[number(r[c]) for c in columns] for r in rows]
    except ValueError as e:
        raise SystemExit(f"{path}: a feature value is not a number ({e}); Netloom needs numeric features")
    raw_labels = [r[label_column].strip() for r in rows]
    if CSV_TASK == "classification":
        names = set(raw_labels)
        numeric = all(NUMBER.match(v) for v in names)
        classes = sorted(names, key=(lambda v: (float(v), v)) if numeric else natural_key)
        y = [classes.index(v) for v in raw_labels]
        train_rows, test_rows = netloom_split(len(rows), CSV_VALIDATION_FRACTION, y)
    else:
        y = [number(v) for v in raw_labels]
        train_rows, test_rows = netloom_split(len(rows), CSV_VALIDATION_FRACTION)
    mean, std = [], []
    for j in range(len(features)):
        values = [x[i][j] for i in train_rows]
        if min(values) == max(values):
            mean.append(values[0])
            std.append(1.0)  # constant on the training split: centred, not scaled
            continue
        m = sum(values) / len(values)
        s = math.sqrt(sum((v - m) * (v - m) for v in values) / len(values))  # population std, as sklearn's StandardScaler
        mean.append(m)
        std.append(s if s > 10 * sys.float_info.epsilon * abs(m) else 1.0)

    def split(indices):
        rows_x = [[(x[i][j] - mean[j]) / std[j] if CSV_STANDARDIZE else x[i][j] for j in range(len(features))] for i in indices]
        features_t = torch.tensor(rows_x, dtype=torch.float64).float()
        if CSV_TASK == "classification":
            return TensorDataset(features_t, torch.tensor([y[i] for i in indices], dtype=torch.long))
        return TensorDataset(features_t, torch.tensor([[y[i]] for i in indices], dtype=torch.float32))

    return split(train_rows), split(test_rows)
`;

const READ_IMAGES = String.raw`
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def load_data(root):
    """An image folder in torchvision's ImageFolder layout (<folder>/<class>/<image>), read with Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise SystemExit("Reading an image folder needs Pillow: pip install pillow")
    folder = IMAGE_FOLDER if os.path.isabs(IMAGE_FOLDER) else os.path.join(root, IMAGE_FOLDER)
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))
    images, labels = [], []
    for label, name in enumerate(classes):
        for dirpath, dirnames, filenames in sorted(os.walk(os.path.join(folder, name), followlinks=True)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for file in sorted(filenames):
                if file.startswith(".") or not file.lower().endswith(IMAGE_EXTENSIONS):
                    continue
                image = Image.open(os.path.join(dirpath, file)).convert("RGB")
                if IMAGE_MODE == "grey":
                    image = image.convert("L")
                if IMAGE_SIZE is not None:
                    image = image.resize((IMAGE_SIZE[1], IMAGE_SIZE[0]), Image.BILINEAR)
                pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
                channels = 1 if IMAGE_MODE == "grey" else 3
                images.append(pixels.reshape(image.height, image.width, channels).permute(2, 0, 1).float().div(255))
                labels.append(label)
    train_rows, test_rows = netloom_split(len(images), IMAGE_VALIDATION_FRACTION, labels)

    def split(indices):
        return TensorDataset(torch.stack([images[i] for i in indices]), torch.tensor([labels[i] for i in indices], dtype=torch.long))

    return split(train_rows), split(test_rows)
`;

/** What load_data needs: the constants in front of it, the readers, and the extra imports. */
export interface DataPy {
  constants: string[];
  code: string;
  imports: string[];
  /** a CSV regression dataset: float targets [N, 1] */
  regression: boolean;
  /** --data's meaning for this dataset, for the help text and the README */
  dataHelp: string;
}

function csvPy(d: CsvDatasetDoc): DataPy {
  return {
    constants: [
      '# The CSV dataset (a relative path is taken inside --data)',
      `CSV_PATH = ${pyStr(d.path)}`,
      `CSV_LABEL = ${pyStr(d.label)}`,
      `CSV_FEATURES = ${d.features === 'all-but-label' ? 'None  # every column but the label' : `[${d.features.map(pyStr).join(', ')}]`}`,
      `CSV_TASK = ${pyStr(d.task)}`,
      `CSV_STANDARDIZE = ${pyValue(d.standardize)}`,
      `CSV_VALIDATION_FRACTION = ${pyValue(d.validation_fraction)}  # held out as the test split`,
      `CSV_DELIMITER = ${d.delimiter === undefined ? 'None  # detected from the header line' : pyStr(d.delimiter)}`,
      `CSV_HEADER = ${pyValue(d.header)}`,
    ],
    code: NETLOOM_SPLIT + '\n' + READ_CSV,
    imports: ['csv', 'io', 're', 'sys'],
    regression: d.task === 'regression',
    dataHelp: `the folder ${d.path} is read from when relative (the project's CSV file)`,
  };
}

function imagesPy(d: ImageFolderDatasetDoc): DataPy {
  return {
    constants: [
      '# The image folder (a relative path is taken inside --data)',
      `IMAGE_FOLDER = ${pyStr(d.path)}`,
      `IMAGE_MODE = ${pyStr(d.mode)}`,
      `IMAGE_SIZE = ${d.size ? `(${d.size[0]}, ${d.size[1]})  # (height, width)` : 'None  # every image has the same size'}`,
      `IMAGE_VALIDATION_FRACTION = ${pyValue(d.validation_fraction)}  # held out as the test split`,
    ],
    code: NETLOOM_SPLIT + '\n' + READ_IMAGES,
    imports: [],
    regression: false,
    dataHelp: `the folder ${d.path} is read from when relative (the project's image folder)`,
  };
}

/** load_data() for the project's dataset. */
export function dataPy(dataset: DatasetDoc): DataPy {
  if (typeof dataset === 'object' && dataset.type === 'csv') return csvPy(dataset);
  if (typeof dataset === 'object' && dataset.type === 'image-folder') return imagesPy(dataset);
  const name = typeof dataset === 'string' ? dataset : dataset.name;
  const info = BUILTIN_DATASETS[name];
  const cifar = name === 'cifar10';
  return {
    constants: [`DATASET_TITLE = ${pyStr(info.title)}  # torchvision's name for it, and its folder under --data`],
    code: (cifar ? READ_CIFAR : READ_IDX).replaceAll('{DATASET_TITLE}', info.title),
    imports: cifar ? ['tarfile'] : ['gzip', 'struct'],
    regression: false,
    dataHelp: `the root that holds ${info.title}/raw/ (torchvision's layout)`,
  };
}
