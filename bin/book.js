#!/usr/bin/env -S node --max-semi-space-size=2
// The runner mostly waits on the machine: small young-generation semi-spaces save ~25 MB of RSS
// (the default 16 MB ones sit mostly empty) at no measurable cost (docs/benchmarks.md).
import '../dist/cli.js';
