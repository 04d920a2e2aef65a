// `setparam` (SPEC 3, 5): see Lifecycle.setparam.
import { itemCommand } from './item.js';

export const { run } = itemCommand('setparam', 'setparam', ({ lifecycle, service }) => lifecycle.setparam(service));
