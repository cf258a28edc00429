/** How tracking and dispatch push notifications to subscribed clients. */
import type { NotificationOf, Topic } from '../protocol/index.ts';

export type Publish = <T extends Topic>(topic: T, params: NotificationOf[T], runId?: string) => void;
