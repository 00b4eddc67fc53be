import { createContext, useContext, useEffect, useRef, useSyncExternalStore, type ReactNode } from 'react';
import type { Connection, ConnectionStatus } from './connection';

const idle: Connection = {
  status: () => 'idle',
  subscribe: () => () => {},
  onConnected: () => () => {},
};

const ConnectionContext = createContext<Connection>(idle);

export function ConnectionProvider({
  connection,
  children,
}: {
  connection: Connection;
  children: ReactNode;
}) {
  return <ConnectionContext.Provider value={connection}>{children}</ConnectionContext.Provider>;
}

/** The websocket's status, re-rendering on changes. */
export function useConnectionStatus(): ConnectionStatus {
  const connection = useContext(ConnectionContext);
  return useSyncExternalStore(connection.subscribe, connection.status);
}

/** Runs `resync` whenever the server acknowledges a socket (see Connection.onConnected). */
export function useResync(resync: (afterDrop: boolean) => void) {
  const connection = useContext(ConnectionContext);
  const latest = useRef(resync);
  useEffect(() => {
    latest.current = resync;
  });
  useEffect(() => connection.onConnected((afterDrop) => latest.current(afterDrop)), [connection]);
}
