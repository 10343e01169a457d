// Each test file learns ssh host keys into a known_hosts of its own: the tests' throwaway sshds
// reuse ports with new keys, which the reader's ~/.ssh/known_hosts must never see (and would refuse).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

process.env.BOOK_KNOWN_HOSTS = path.join(mkdtempSync(path.join(tmpdir(), 'book-known-hosts-')), 'known_hosts');
