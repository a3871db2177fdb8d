import { Buffer } from 'buffer';

// The shared src/ code encodes bytes with Node's Buffer; the page gets the same API from `buffer`.
(globalThis as { Buffer?: unknown }).Buffer ??= Buffer;
