// `suspend` (SPEC 3, 5): see Lifecycle.suspend.
import { itemCommand } from './item.js';

export const { run } = itemCommand('suspend', 'suspend', ({ lifecycle, service }) => lifecycle.suspend(service));
