/**
 * File ▸ Export's pure logic in the renderer (renderer/state/exports.ts): the names each format proposes, the
 * checkpoint format a typed name asks for, .pt proposed for a resumable checkpoint, the success messages, and
 * that each format's Browse… opens a native dialog the desktop host knows (with the filters of the engine's file
 * kinds). The dialog itself runs in Chromium (test/e2e/export-import.spec.ts).
 */
import { describe, expect, it } from 'vitest';
import { DIALOGS } from '../../electron/files.js';
import { ExportFormatDto } from '../../engine/contract/api.js';
import { FILE_KINDS } from '../../engine/io/file-kinds.js';
import { EXPORT_FORMATS, checkpointFormatOf, exportFileName, exportMessage, resumableDefault, withCheckpointFormat } from '../../renderer/state/exports.js';

describe('what each export proposes', () => {
  it('a file named after the project with the format\'s extension; PyTorch code a folder', () => {
    expect(exportFileName('PyTorch quickstart (FashionMNIST MLP)', 'safetensors')).toBe('pytorch-quickstart-fashionmnist-mlp.safetensors');
    expect(exportFileName('LeNet-5', 'pt')).toBe('lenet-5.pt');
    expect(exportFileName('LeNet-5', 'onnx')).toBe('lenet-5.onnx');
    expect(exportFileName('LeNet-5', 'pytorch')).toBe('lenet-5-pytorch');
    expect(exportFileName('  ', 'onnx')).toBe('model.onnx');
  });

  it('every format has a spec, and its extension is the one the engine writes that kind with', () => {
    expect(Object.keys(EXPORT_FORMATS).sort()).toEqual([...ExportFormatDto.options].sort());
    const kindOf = { safetensors: 'checkpoint', pt: 'torch', onnx: 'onnx' } as const;
    for (const [format, kind] of Object.entries(kindOf)) expect(FILE_KINDS[kind].extensions[0], format).toBe(EXPORT_FORMATS[format as keyof typeof kindOf].extension);
    expect(EXPORT_FORMATS.pytorch).toMatchObject({ extension: null, browse: { mode: 'folder' }, weightsOptional: true });
  });

  it('Browse… opens a native dialog whose filters are the engine\'s extensions for that kind', () => {
    for (const format of ExportFormatDto.options) {
      const { browse, extension } = EXPORT_FORMATS[format];
      const dialog = DIALOGS[browse.purpose];
      expect(dialog, format).toBeDefined();
      if (extension === null) expect(dialog.filters).toEqual([]);
      else expect(dialog.filters.flatMap((f) => f.extensions), format).toContain(extension.slice(1));
    }
    // opening weights accepts every extension the engine reads weights from
    expect(new Set(DIALOGS.weights.filters[0]!.extensions.map((e) => `.${e}`))).toEqual(new Set(FILE_KINDS.weights.extensions));
  });
});

describe('safetensors or .pt', () => {
  it('the typed name decides; other names leave it to the choice', () => {
    expect(checkpointFormatOf('/a/m.PT')).toBe('pt');
    expect(checkpointFormatOf('/a/m.pth')).toBe('pt');
    expect(checkpointFormatOf('/a/m.safetensors')).toBe('safetensors');
    expect(checkpointFormatOf('/a/m.ckpt')).toBeNull();
    expect(checkpointFormatOf('/a/m')).toBeNull();
  });

  it('switching the format swaps the extension, but never one the user chose for another kind of name', () => {
    expect(withCheckpointFormat('/a/m.safetensors', 'pt')).toBe('/a/m.pt');
    expect(withCheckpointFormat('/a/m.pth', 'safetensors')).toBe('/a/m.safetensors');
    expect(withCheckpointFormat('/a/m.pt', 'pt')).toBe('/a/m.pt');
    expect(withCheckpointFormat('/a/m.ckpt', 'pt')).toBe('/a/m.ckpt');
  });

  it('asking for the optimizer state proposes .pt (PyTorch\'s checkpoint layout) unless a name was typed', () => {
    expect(resumableDefault('safetensors', true, false)).toBe('pt');
    expect(resumableDefault('safetensors', true, true)).toBe('safetensors');
    expect(resumableDefault('safetensors', false, false)).toBe('safetensors');
    expect(resumableDefault('pt', false, false)).toBe('pt');
  });
});

describe('what the app says once the engine wrote the files', () => {
  it('names the format, the file and the weights', () => {
    expect(exportMessage('onnx', ['/a/model.onnx'], '/a/model', 'last weights')).toBe('Exported ONNX model to /a/model.onnx (last weights)');
    expect(exportMessage('pt', ['/a/m.pt'], '/a/m.pt', 'last weights and optimizer state')).toBe('Exported PyTorch state dict to /a/m.pt (last weights and optimizer state)');
    // Save checkpoint keeps its words (the Training panel's button, and the tests and habits built on them)
    expect(exportMessage('safetensors', ['/a/m.safetensors'], '/a/m', "epoch 2's weights (best)")).toBe("Checkpoint saved to /a/m.safetensors (epoch 2's weights (best))");
    expect(exportMessage('pytorch', ['/a/code/model.py', '/a/code/train.py'], '/a/code', null)).toBe('Exported PyTorch code to /a/code: model.py, train.py');
  });
});
