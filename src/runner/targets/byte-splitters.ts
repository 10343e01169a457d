/**
 * Splitting the agent's byte streams by hand, on the path every command's answer takes: Node's
 * readline and docker-modem's demuxStream (a PassThrough, a Buffer.concat and a copy of the rest
 * for every frame) cost more per message than the parsing they do.
 */

/** Calls `onLine` with each whole line (its '\n' left out) as chunks come; a line split across chunks is joined first. */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let partial: Buffer[] = [];
  return (chunk) => {
    let from = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
      const piece = chunk.subarray(from, nl);
      from = nl + 1;
      // The line taken whole before it is handed on: a listener that throws leaves the next line as it is.
      let line = piece;
      if (partial.length > 0) {
        partial.push(piece);
        line = Buffer.concat(partial);
        partial = [];
      }
      onLine(line.toString('utf8'));
    }
    if (from < chunk.length) partial.push(chunk.subarray(from));
  };
}

/** The size of a Docker stream frame's header: the stream (1 stdout, 2 stderr), three zero bytes, the payload's length (big-endian). */
const HEADER = 8;

/**
 * Docker's multiplexed attach stream (a non-TTY exec) split into its frames: `onFrame(stream,
 * payload)` for each, as chunks come, whatever their boundaries. A header that is not one (a stream
 * that is not multiplexed, or out of step) calls `onCorrupt` once, and nothing more is parsed.
 */
export function dockerFrameSplitter(onFrame: (stream: number, payload: Buffer) => void, onCorrupt: (why: string) => void): (chunk: Buffer) => void {
  let held: Buffer = Buffer.alloc(0);
  let broken = false;
  return (chunk) => {
    if (broken) return;
    const data = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
    let at = 0;
    while (data.length - at >= HEADER) {
      const stream = data[at] as number;
      if (stream > 2 || data[at + 1] !== 0 || data[at + 2] !== 0 || data[at + 3] !== 0) {
        broken = true;
        onCorrupt(`a frame header that is not one (bytes ${data.subarray(at, at + HEADER).toString('hex')})`);
        return;
      }
      const length = data.readUInt32BE(at + 4);
      if (data.length - at - HEADER < length) break;
      onFrame(stream, data.subarray(at + HEADER, at + HEADER + length));
      at += HEADER + length;
    }
    // What is left is the start of a frame: kept (copied, so the chunk it came in can go).
    held = at < data.length ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
  };
}
