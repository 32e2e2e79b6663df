import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instrumentedFs, scratchDir, tempFilesIn } from '../../../test/fixtures/export/helpers.js';
import { writeFileAtomic } from './atomic-file.js';
import { nodeExportFs } from './export-fs.js';
import { resolveTarget } from './target.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratchDir()));
afterEach(() => cleanup());

async function writeText(path: string, text: string, fs = nodeExportFs): Promise<void> {
  const target = await resolveTarget(path, fs);
  await writeFileAtomic(target, async (out) => out.push(text), { fs });
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o7777;
}

describe('writeFileAtomic', () => {
  it('creates a new file with the usual default mode (0o666 & ~umask)', async () => {
    const path = join(dir, 'new.json');
    await writeText(path, 'hello');
    expect(readFileSync(path, 'utf8')).toBe('hello');
    expect(modeOf(path)).toBe(0o666 & ~process.umask());
    expect(tempFilesIn(dir)).toEqual([]);
  });

  it.each([0o600, 0o640, 0o755])('keeps the permission bits %o of the file it replaces', async (mode) => {
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'old');
    chmodSync(path, mode);
    await writeText(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(modeOf(path)).toBe(mode);
  });

  it('flushes the temp file, renames it over the target, then flushes the directory', async () => {
    const path = join(dir, 'out.json');
    const fs = instrumentedFs();
    await writeText(path, 'data', fs);
    const calls = fs.calls.map((call) => call.replace(/\.sluice-[0-9a-f]{8}\.tmp/g, 'TEMP'));
    expect(calls).toEqual([
      `open:${join(dir, 'TEMP')}`,
      `fsync:${join(dir, 'TEMP')}`,
      `close:${join(dir, 'TEMP')}`,
      `rename:${join(dir, 'TEMP')}->${path}`,
      `open:${dir}`,
      `fsync:${dir}`,
      `close:${dir}`,
    ]);
  });

  it('works for a target name of 250 bytes (the temp name does not grow with it)', async () => {
    const path = join(dir, `${'n'.repeat(245)}.json`);
    await writeText(path, '[]');
    expect(readFileSync(path, 'utf8')).toBe('[]');
  });

  it('removes the temp file and keeps the original when writing fails', async () => {
    const path = join(dir, 'out.json');
    writeFileSync(path, 'old complete file');
    const target = await resolveTarget(path, nodeExportFs);
    const failing = writeFileAtomic(target, async (out) => {
      out.push('half');
      await out.flush();
      throw new Error('row 3 exploded');
    });
    await expect(failing).rejects.toThrow('cannot write ' + path + ': row 3 exploded');
    expect(readFileSync(path, 'utf8')).toBe('old complete file');
    expect(tempFilesIn(dir)).toEqual([]);
  });

  it('stops on abort with the reason in plain words, removing the temp file', async () => {
    const path = join(dir, 'out.json');
    writeFileSync(path, 'old');
    const controller = new AbortController();
    const target = await resolveTarget(path, nodeExportFs);
    const write = writeFileAtomic(
      target,
      async (out) => {
        out.push('x'.repeat(100));
        await out.flush();
        const reason = new Error('interrupted by SIGTERM');
        reason.name = 'ExportInterrupted';
        controller.abort(reason);
        out.push('more');
        await out.flush();
      },
      { signal: controller.signal },
    );
    await expect(write).rejects.toThrow(`cannot write ${path}: interrupted by SIGTERM`);
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(tempFilesIn(dir)).toEqual([]);
  });
});

describe('symlinked targets (written through)', () => {
  it('replaces the file the link points to, in its own directory; the link stays a link', async () => {
    const realDir = join(dir, 'releases', 'r42');
    mkdirSync(realDir, { recursive: true });
    const real = join(realDir, 'out.csv');
    writeFileSync(real, 'old');
    chmodSync(real, 0o640);
    const link = join(dir, 'current.csv');
    symlinkSync('releases/r42/out.csv', link);
    const fs = instrumentedFs();
    await writeText(link, 'new', fs);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('releases/r42/out.csv');
    expect(readFileSync(real, 'utf8')).toBe('new');
    expect(modeOf(real)).toBe(0o640);
    const tempOpen = fs.calls.find((call) => call.includes('.sluice-'));
    expect(dirname(tempOpen?.replace(/^open:/, '') ?? '')).toBe(realDir);
    expect(tempFilesIn(realDir)).toEqual([]);
  });

  it('follows a chain of links, and a dangling link creates the file it names', async () => {
    const final = join(dir, 'final.json');
    symlinkSync('middle.json', join(dir, 'first.json'));
    symlinkSync(final, join(dir, 'middle.json'));
    await writeText(join(dir, 'first.json'), '{}');
    expect(readFileSync(final, 'utf8')).toBe('{}');
    expect(lstatSync(join(dir, 'first.json')).isSymbolicLink()).toBe(true);
  });

  it('refuses a symlink loop in plain words', async () => {
    symlinkSync('b', join(dir, 'a'));
    symlinkSync('a', join(dir, 'b'));
    await expect(writeText(join(dir, 'a'), 'x')).rejects.toThrow(`cannot write ${join(dir, 'a')}: too many levels of symbolic links`);
  });
});

describe('resolveTarget refuses what cannot be replaced', () => {
  it('names a target that is a directory', async () => {
    await expect(resolveTarget(dir, nodeExportFs)).rejects.toMatchObject({ code: 'EXPORT_WRITE', message: `cannot write ${dir}: it is a directory` });
  });

  it('names a missing directory', async () => {
    const path = join(dir, 'missing', 'out.csv');
    await expect(resolveTarget(path, nodeExportFs)).rejects.toMatchObject({
      code: 'EXPORT_WRITE',
      message: `cannot write ${path}: directory ${join(dir, 'missing')} does not exist`,
    });
  });

  it('names a parent that is a file', async () => {
    writeFileSync(join(dir, 'file'), '');
    const path = join(dir, 'file', 'out.csv');
    await expect(resolveTarget(path, nodeExportFs)).rejects.toMatchObject({ message: `cannot write ${path}: a parent is not a directory` });
  });

  it('refuses a device such as /dev/null', async () => {
    await expect(resolveTarget('/dev/null', nodeExportFs)).rejects.toThrow('cannot write /dev/null: it is not a regular file');
  });
});
