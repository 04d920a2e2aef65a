// `sync_item` (SPEC 3, 5.6): read the license upstream and bring local state and the service in step.
import { itemCommand } from './item.js';

export const { run } = itemCommand('sync_item', null, ({ lifecycle, service }) => lifecycle.sync(service));
