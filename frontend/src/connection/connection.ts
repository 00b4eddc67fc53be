/**
 * What the agent needs to know about the websocket that carries offers, interaction updates and
 * messages: whether it is up, and when it has come back after a drop. Subscriptions only notify;
 * the truth is queryable, so whoever shows server state re-queries on `onConnected` and nothing
 * that happened while the socket was down is lost.
 */
export type ConnectionStatus =
  /** No subscription is open, so no socket is needed. */
  | 'idle'
  /** Opening the first socket of the session. */
  | 'connecting'
  /** The server acknowledged the socket; events flow. */
  | 'connected'
  /** The socket dropped while subscriptions were open; graphql-ws is retrying. */
  | 'reconnecting';

export interface Connection {
  status(): ConnectionStatus;
  /** Called on every status change. */
  subscribe(listener: () => void): () => void;
  /**
   * Called each time the server acknowledges a socket, the first one included: events between a
   * screen's first query and its subscription starting would otherwise be missed too.
   * `afterDrop` tells a reconnection from the first connection.
   */
  onConnected(listener: (afterDrop: boolean) => void): () => void;
}

/** The graphql-ws lifecycle events the monitor needs, fed by the client (see client.ts). */
export interface ConnectionMonitor extends Connection {
  connecting(): void;
  connected(): void;
  /** The socket closed; `expected` when nothing needs it (no subscription, disposed, refused). */
  closed(expected: boolean): void;
}

export function createConnectionMonitor(): ConnectionMonitor {
  let status: ConnectionStatus = 'idle';
  let dropped = false;
  const statusListeners = new Set<() => void>();
  const connectedListeners = new Set<(afterDrop: boolean) => void>();

  const set = (next: ConnectionStatus) => {
    if (next === status) return;
    status = next;
    statusListeners.forEach((l) => l());
  };

  return {
    status: () => status,
    subscribe(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    onConnected(listener) {
      connectedListeners.add(listener);
      return () => connectedListeners.delete(listener);
    },
    connecting() {
      if (status !== 'reconnecting') set('connecting');
    },
    connected() {
      const afterDrop = dropped;
      dropped = false;
      set('connected');
      connectedListeners.forEach((l) => l(afterDrop));
    },
    closed(expected) {
      if (expected) {
        dropped = false;
        set('idle');
      } else {
        dropped = true;
        set('reconnecting');
      }
    },
  };
}
