/** The live progress view's list of a distributed run's workers (workersModel); hidden for a local run. */
import { ListSection } from './listSection';
import type { FleetPayload } from './payloads';
import { workersModel, type WorkerRow } from './workersModel';

export class WorkersView {
  private readonly list = new ListSection<WorkerRow>(
    [
      { title: 'Host', className: 'bf-mono', value: (row) => row.host },
      { title: 'PID', className: 'bf-num', value: (row) => row.pid },
      { title: 'Chunk', className: 'bf-num', value: (row) => row.chunk },
      { title: 'Rate', className: 'bf-num', value: (row) => row.rate },
      { title: 'Sent', className: 'bf-num', value: (row) => row.sent },
      { title: 'Last heartbeat', value: (row) => row.heartbeat },
      { title: 'State', className: 'bf-state', value: (row) => row.health },
    ],
    (row) => row.key,
    (row) => row.tone,
  );
  readonly root = this.list.root;

  constructor() {
    this.root.classList.add('bf-workers');
  }

  update(fleet: FleetPayload | undefined): void {
    const model = workersModel(fleet);
    this.list.update(model.heading, model.rows, model.more);
  }
}
