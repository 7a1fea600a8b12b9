// Test files share one process per jest worker: keep the Temporal SDK's own logging to warnings.
import { installWorkerLogging } from '../../src/worker';

installWorkerLogging('WARN');
