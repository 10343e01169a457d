/**
 * The bytes between the runner and its agent, cut into what each side reads: the agent's JSON
 * lines, and (docker target) the frames of a Docker exec's multiplexed stream. Hand-written, not
 * readline and dockerode's demuxStream through PassThroughs: on the docker target every command
 * crosses these twice, and the streams' machinery cost ~0.5 ms of CPU a block (docs/benchmarks.md).
 */

/** A function taking chunks of a byte stream and calling `onLine` with each complete line, without its newline. */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  // Bytes, not text, are kept between chunks: a chunk may end inside a UTF-8 character, never
  // inside a newline byte (0x0a is never part of a multi-byte character).
  let rest: Buffer | undefined;
  return (chunk) => {
    let start = 0;
    let newline = chunk.indexOf(10);
    while (newline !== -1) {
      const piece = chunk.subarray(start, newline);
      onLine((rest ? Buffer.concat([rest, piece]) : piece).toString('utf8'));
      rest = undefined;
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const tail = chunk.subarray(start);
      rest = rest ? Buffer.concat([rest, tail]) : tail;
    }
  };
}

/**
 * A function taking chunks of a Docker exec's attached stream without a terminal (each frame an
 * 8-byte header: the stream, three zero bytes, the payload's length big-endian, then the payload)
 * and handing each payload to `onStdout` or `onStderr` as it arrives, in order. As Docker's own
 * stdcopy reads them: streams 0 (stdin) and 1 to stdout, 2 to stderr; 3 is the daemon's own
 * error, shown on stderr too.
 */
export function execFrameSplitter(onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void): (chunk: Buffer) => void {
  const header = Buffer.alloc(8);
  let headerHave = 0;
  let stream = 0;
  let payloadLeft = 0;
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (payloadLeft === 0) {
        const take = Math.min(8 - headerHave, chunk.length - at);
        chunk.copy(header, headerHave, at, at + take);
        headerHave += take;
        at += take;
        if (headerHave < 8) return;
        headerHave = 0;
        stream = header[0] as number;
        payloadLeft = header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(payloadLeft, chunk.length - at);
      const payload = chunk.subarray(at, at + take);
      at += take;
      payloadLeft -= take;
      if (stream <= 1) onStdout(payload);
      else onStderr(payload);
    }
  };
}
