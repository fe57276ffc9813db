// A DNS server for tests on loopback (RFC 1035 over UDP): answers A and CAA (RFC 8659) from a table,
// NXDOMAIN for names it does not know, NOERROR with no answer for a known name without that type.
import { createSocket, type Socket } from 'node:dgram';

export interface Zone {
  [name: string]: { A?: string[]; CAA?: { flags: number; tag: string; value: string }[] };
}

const TYPE_A = 1;
const TYPE_CAA = 257;

function readName(msg: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let i = offset;
  for (;;) {
    const len = msg[i] ?? 0;
    if (len === 0) return { name: labels.join('.').toLowerCase(), next: i + 1 };
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += 1 + len;
  }
}

function answer(query: Buffer, zone: Zone): Buffer {
  const { name, next } = readName(query, 12);
  const type = query.readUInt16BE(next);
  const question = query.subarray(12, next + 4);
  const entry = zone[name];
  const rdata: Buffer[] =
    type === TYPE_A
      ? (entry?.A ?? []).map((a) => Buffer.from(a.split('.').map(Number)))
      : type === TYPE_CAA
        ? (entry?.CAA ?? []).map((c) =>
            Buffer.concat([Buffer.from([c.flags, c.tag.length]), Buffer.from(c.tag), Buffer.from(c.value)]),
          )
        : [];
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | (entry ? 0 : 3), 2); // response, recursion desired+available, NXDOMAIN if unknown
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdata.length, 6);
  const records = rdata.map((d) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(type, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(d.length, 10);
    return Buffer.concat([rr, d]);
  });
  return Buffer.concat([header, question, ...records]);
}

/** Starts the server on 127.0.0.1 at a free port; `address` is what `--resolver` takes. */
export async function startDnsServer(
  zone: Zone,
): Promise<{ address: string; close: () => void; socket: Socket }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, from) => socket.send(answer(msg, zone), from.port, from.address));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { address: `127.0.0.1:${socket.address().port}`, close: () => socket.close(), socket };
}
