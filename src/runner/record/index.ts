/** Recorded runs: the transcript writer, its redaction, and the replay of a transcript. */

export { normaliseVolatile, stableJson } from './normalise.js';
export { type Recording, startRecording } from './recorder.js';
export { isPrivateMode, REDACTED, Redactor, redactShapes } from './redact.js';
export { redactingRelay, registeringInstrument } from './redact-events.js';
export { ReplayClients, ReplayMismatch, ReplaySession } from './replay.js';
export { type ReplayRun, startReplay } from './replay-run.js';
export * from './transcript.js';
