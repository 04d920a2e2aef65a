// A service's history from what the module recorded (store: service_event, one row per successful
// item command with the service as it then was). Pure: rows in, histories out.
import { SERVICE_PERIODS } from '../pool/periods.js';
import type { ServiceEvent } from '../pool/store.js';
import { dayNumber } from './calendar.js';
import type { ServiceHistory } from './model.js';

const PERIOD_CODES: ReadonlySet<number> = new Set(SERVICE_PERIODS);

export interface HistoryResult {
  services: ServiceHistory[];
  /** Services left out, and why (no panel, an unknown period…), for the report's notes. */
  skipped: Array<{ item: number; why: string }>;
}

/**
 * One history per service: opened on its first `open` (else its first recorded day: a service
 * older than the record), closed on its `close`; period, panel and tariff plan as last recorded;
 * paid-until as each command saw it. A panel change mid-life is taken as the last panel.
 */
export function historiesFromEvents(events: readonly ServiceEvent[]): HistoryResult {
  const byItem = new Map<number, ServiceEvent[]>();
  for (const e of events) {
    const a = byItem.get(e.item);
    if (a) a.push(e);
    else byItem.set(e.item, [e]);
  }
  const services: ServiceHistory[] = [];
  const skipped: HistoryResult['skipped'] = [];
  for (const [item, list] of byItem) {
    const openEvent = list.find((e) => e.command === 'open');
    const first = openEvent ?? list[0]!;
    const closeEvent = list.find((e) => e.command === 'close' && e.day >= first.day);
    const live = list.filter((e) => e.command !== 'close');
    const last = live.at(-1) ?? first;
    if (!/^[1-9]\d{0,9}$/.test(last.panel)) {
      skipped.push({ item, why: last.panel === 'nopanel' ? 'no control panel' : `panel "${last.panel}" is not a tariff id` });
      continue;
    }
    const period = /^-?\d+$/.test(last.period.trim()) ? Number(last.period.trim()) : NaN;
    if (!PERIOD_CODES.has(period)) {
      skipped.push({ item, why: `period "${last.period}" is not a BILLmanager period code` });
      continue;
    }
    const paid: Array<{ from: number; until: number }> = [];
    for (const e of list) {
      if (e.expiredate === null || !/^\d{4}-\d{2}-\d{2}$/.test(e.expiredate) || e.command === 'close') continue;
      const from = dayNumber(e.day);
      const until = dayNumber(e.expiredate);
      const prev = paid.at(-1);
      if (prev && prev.from === from) prev.until = until;
      else if (!prev || prev.until !== until) paid.push({ from, until });
    }
    services.push({
      item,
      tariff: last.panel,
      hostPricelist: last.pricelist,
      itemtype: last.itemtype,
      period,
      open: dayNumber(first.day),
      close: closeEvent ? dayNumber(closeEvent.day) : null,
      paid,
    });
  }
  services.sort((a, b) => a.item - b.item);
  return { services, skipped };
}
