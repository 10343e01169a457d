#!/usr/bin/env -S node --max-semi-space-size=2 --optimize-for-size
// The runner mostly waits on the machine, so memory matters more than peak speed: small
// young-generation semi-spaces and V8's size-optimised mode cut ~30-50 MB of RSS at no
// measurable cost in wall time (docs/benchmarks.md).
import '../dist/cli.js';
