// `open` (SPEC 3, 5): see Lifecycle.open.
import { itemCommand } from './item.js';

export const { run } = itemCommand('open', 'open', ({ lifecycle, service }) => lifecycle.open(service));
