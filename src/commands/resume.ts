// `resume` (SPEC 3, 5): see Lifecycle.resume.
import { itemCommand } from './item.js';

export const { run } = itemCommand('resume', 'resume', ({ lifecycle, service }) => lifecycle.resume(service));
