import type { RunFileRow } from '../ledger/ledger.js';
import type { CommitContext } from './commit-batch.js';

/**
 * The statuses of files found unchanged, committed together: one transaction (one fsync) per
 * unchanged file made a re-run over many small files slow. A crash before the flush loses
 * nothing but the mark; the resumed run fingerprints those files again.
 */
export class UnchangedFiles {
  private pending: RunFileRow[] = [];

  constructor(
    private readonly commit: CommitContext,
    private readonly limit = 1000,
  ) {}

  async add(file: RunFileRow): Promise<void> {
    this.pending.push(file);
    if (this.pending.length >= this.limit) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const files = this.pending;
    this.pending = [];
    const { backend, runId } = this.commit;
    await backend.transaction(async (tx) => {
      for (const file of files) await tx.ledger.setFileStatus(runId, file.ordinal, 'unchanged', null);
      await tx.ledger.addCounters(runId, { files_unchanged: files.length }, null);
    });
  }
}
