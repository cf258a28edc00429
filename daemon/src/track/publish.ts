/** How tracking and dispatch push notifications to subscribed clients. */
import type { NotificationOf, Topic } from '../protocol/index.ts';
import type { MetricInput } from '../store/index.ts';

export type Publish = <T extends Topic>(topic: T, params: NotificationOf[T], runId?: string) => void;

/** Publishes new metric points as one `metrics` notification per key, as the wire carries them (NaN/±Inf as `special`). */
export function publishPoints(publish: Publish, runId: string, points: readonly MetricInput[]): void {
  const byKey = new Map<string, NotificationOf['metrics']['points']>();
  for (const p of points) {
    let list = byKey.get(p.key);
    if (!list) byKey.set(p.key, (list = []));
    const special = Number.isNaN(p.value) ? 'nan' : p.value === Infinity ? 'inf' : p.value === -Infinity ? '-inf' : undefined;
    list.push(special ? { step: Math.trunc(p.step), value: null, special, wallTime: p.wallTime ?? null } : { step: Math.trunc(p.step), value: p.value, wallTime: p.wallTime ?? null });
  }
  for (const [key, list] of byKey) publish('metrics', { runId, key, points: list }, runId);
}
