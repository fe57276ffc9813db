// Free TCP ports on 127.0.0.1, for local forwards (a tunnel through the jump host). The kernel picks each; they are
// released before the caller binds them, so another program could take one in between: the tunnel then fails
// with ExitOnForwardFailure and says so.
import { createServer, type Server } from 'node:net';

export async function freeLocalPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      const address = s.address();
      if (address && typeof address === 'object') ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
