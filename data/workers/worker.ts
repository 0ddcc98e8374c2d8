/** Worker entry: loads the task module named in workerData and answers jobs until terminated. */
import { type MessagePort, parentPort, threadId, workerData } from 'node:worker_threads';
import {
  type FromWorker,
  serializeError,
  type TaskFn,
  type TaskModule,
  type ToWorker,
  type WorkerInit,
} from './protocol.js';

if (!parentPort) throw new Error('data/workers/worker is a worker_threads entry point');
const port: MessagePort = parentPort;
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  let run: TaskFn<unknown, unknown>;
  try {
    const mod = (await import(init.module)) as TaskModule<unknown, unknown, unknown>;
    run = await mod.createTask(init.args);
  } catch (err) {
    send({ type: 'init-error', error: serializeError(err) });
    return;
  }
  port.on('message', (msg: ToWorker) => {
    run(msg.job).then(
      (out) => send({ type: 'result', id: msg.id, value: out.value, threadId }, out.transfer ?? []),
      (err) => send({ type: 'error', id: msg.id, error: serializeError(err) }),
    );
  });
  send({ type: 'ready' });
}

void main();
