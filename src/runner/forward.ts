import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface Forward {
  port: number;
  close(): Promise<void>;
}

/**
 * A listener on this host's loopback whose every connection is piped to a stream opened on the
 * machine. Clients (dockerode, the Kubernetes client) then need no knowledge of targets.
 */
export async function startForward(open: () => Promise<Duplex>, onError?: (error: Error) => void): Promise<Forward> {
  const sockets = new Set<net.Socket>();
  // noDelay: without it a request written in pieces waits out the client's delayed ACK (~40 ms each).
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.pause();
    open().then(
      (remote) => {
        remote.on('error', () => socket.destroy());
        socket.on('error', () => remote.destroy());
        remote.on('close', () => socket.destroy());
        socket.on('close', () => remote.destroy());
        socket.pipe(remote);
        remote.pipe(socket);
        socket.resume();
      },
      (error: Error) => {
        onError?.(error);
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
