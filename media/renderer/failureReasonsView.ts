/** The live progress view's list of failure reasons: reason, count, an example key (failureReasonsModel). */
import type { RunStatus } from '../../src/core/run/runStatus';
import { failureReasonsModel, type FailureReasonRow } from './failureReasonsModel';
import { ListSection } from './listSection';

export class FailureReasonsView {
  private readonly list = new ListSection<FailureReasonRow>(
    [
      { title: 'Reason', value: (row) => row.reason },
      { title: 'Records', value: (row) => row.count },
      { title: 'Example', className: 'bf-mono', value: (row) => row.example },
    ],
    (row) => row.reason,
  );
  readonly root = this.list.root;

  constructor() {
    this.root.classList.add('bf-failure-reasons');
  }

  /** Hidden while nothing has failed. */
  update(status: RunStatus): void {
    const model = failureReasonsModel(status);
    this.list.update(model.heading, model.rows, 0);
  }
}
