// The transcript formats, in a module of their own: the schema (schemas/transcript.ts) names them
// without importing transcript.ts, which imports the schema.

/**
 * Bumped when a transcript written by an older runner can no longer be read as it is. @2: target
 * calls carry their logical key (run/call-key.ts); @1 transcripts are migrated on load
 * (record/migrate.ts) or refused as TRANSCRIPT_OLD. @3: a ts block's `output` is what it logged;
 * its `$` commands' output is theirs only (`commands`), no longer copied into the block's.
 */
export const TRANSCRIPT_FORMAT = 'build-a-minikube/transcript@3';
export const TRANSCRIPT_FORMAT_V2 = 'build-a-minikube/transcript@2';
export const TRANSCRIPT_FORMAT_V1 = 'build-a-minikube/transcript@1';
