/**
 * Gathers the messages the pull loop hands over into batches for the batched consumer. A batch goes out when it
 * holds `batchSize` items, or at the next turn of the event loop (setImmediate): by then the messages a pull had
 * already buffered have been handed over, so a batch is "what one pull returned, up to batchSize" and no message
 * waits for a batch to fill. Each item is handed to `dispatch` exactly once, in the order it was added.
 */
export function createBatcher<T>(batchSize: number, dispatch: (batch: T[]) => void): (item: T) => void {
  let batch: T[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (batch.length === 0) return;
    const full = batch;
    batch = [];
    dispatch(full);
  };
  return (item) => {
    batch.push(item);
    if (batch.length >= batchSize) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
