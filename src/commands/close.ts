// `close` (SPEC 3, 5): see Lifecycle.close.
import { itemCommand } from './item.js';

export const { run } = itemCommand('close', 'close', ({ lifecycle, service }) => lifecycle.close(service));
