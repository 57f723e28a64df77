// Domain events: one small typed bus in the process. A capability publishes what happened, after
// it is committed; whoever cares subscribes at assembly (src/app/services.ts). Publishing never
// fails because of a subscriber: the write is done and the caller's answer must not depend on
// who listens, so a subscriber's error (thrown, or a rejected promise) is logged and dropped.
import type { Logger } from './logger.js';

/** Every event, by name, with its payload. */
export interface DomainEvents {
  /** Devices' own records changed (registered, edited, deleted, user reassigned…). */
  'devices.changed': { deviceIds: number[] };
  /** Devices' manual label memberships changed. */
  'labels.membershipChanged': { deviceIds: number[] };
  /** A user's details changed; these are the devices it owns. */
  'users.changed': { deviceIds: number[] };
}

export type EventName = keyof DomainEvents;
export type Subscriber<E extends EventName> = (payload: DomainEvents[E]) => void | Promise<void>;

/** What a publisher needs: capabilities take this, not the whole bus. */
export interface EventPublisher {
  publish<E extends EventName>(event: E, payload: DomainEvents[E]): void;
}

export class EventBus implements EventPublisher {
  private readonly subscribers: { [E in EventName]?: Array<Subscriber<E>> } = {};

  constructor(private readonly logger: Pick<Logger, 'error'>) {}

  /** Returns the way to unsubscribe. */
  subscribe<E extends EventName>(event: E, subscriber: Subscriber<E>): () => void {
    const list = (this.subscribers[event] ??= []) as Array<Subscriber<E>>;
    list.push(subscriber);
    return () => {
      const i = list.indexOf(subscriber);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Calls every subscriber synchronously, in subscription order; none can fail the publisher. */
  publish<E extends EventName>(event: E, payload: DomainEvents[E]): void {
    for (const subscriber of [...((this.subscribers[event] ?? []) as Array<Subscriber<E>>)]) {
      try {
        const result = subscriber(payload);
        if (result instanceof Promise) result.catch((err: unknown) => this.failed(event, err));
      } catch (err) {
        this.failed(event, err);
      }
    }
  }

  private failed(event: EventName, err: unknown): void {
    this.logger.error({ err, event }, 'an event subscriber failed');
  }
}

/** For a service built on its own (tests, tools): publishes to nobody. */
export const noEvents: EventPublisher = { publish: () => {} };
