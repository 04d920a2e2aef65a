// `prolong` (SPEC 3, 5): see Lifecycle.prolong.
import { itemCommand } from './item.js';

export const { run } = itemCommand('prolong', 'prolong', ({ lifecycle, service }) => lifecycle.prolong(service));
