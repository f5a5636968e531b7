// A tiny authoritative DNS server over UDP: A and AAAA answers from a table, NXDOMAIN for the
// rest, TTL 0, and a log of every question. A `rebind: [first, later]` record answers its first
// A query with `first` and every later one with `later`.

import dgram from 'node:dgram';
import net from 'node:net';

const TYPE = { A: 1, AAAA: 28 };
const TYPE_NAME = { 1: 'A', 28: 'AAAA' };

function readName(msg, offset) {
    const labels = [];
    for (;;) {
        const len = msg[offset];
        if (len === undefined) {
            throw new Error('truncated name');
        }
        offset += 1;
        if (len === 0) {
            break;
        }
        if (len >= 0xc0) {
            throw new Error('compressed question name');
        }
        labels.push(msg.subarray(offset, offset + len).toString('latin1'));
        offset += len;
    }
    return { name: labels.join('.'), end: offset };
}

function ipv6Bytes(address) {
    const [head, tail] = address.split('::');
    const parse = (part) => (part ? part.split(':') : []).flatMap((group) => {
        if (group.includes('.')) {
            const b = group.split('.').map(Number);
            return [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
        }
        return [parseInt(group, 16)];
    });
    const h = parse(head);
    const t = tail === undefined ? [] : parse(tail);
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
    return out;
}

function rdata(type, address) {
    if (type === TYPE.A) {
        return Buffer.from(address.split('.').map(Number));
    }
    return ipv6Bytes(address);
}

export function startDns({ host, port, records }) {
    const log = [];
    const aQueries = new Map();
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');

    function answersFor(name, type) {
        const record = records[name];
        if (!record) {
            return null;
        }
        if (record.rebind) {
            if (type !== TYPE.A) {
                return [];
            }
            const n = aQueries.get(name) ?? 0;
            aQueries.set(name, n + 1);
            return [n === 0 ? record.rebind[0] : record.rebind[1]];
        }
        return record[TYPE_NAME[type]] ?? [];
    }

    socket.on('message', (msg, rinfo) => {
        try {
            if (msg.length < 12) {
                return;
            }
            const { name: rawName, end } = readName(msg, 12);
            const qtype = msg.readUInt16BE(end);
            const name = rawName.toLowerCase().replace(/\.$/, '');
            const question = msg.subarray(12, end + 4);
            const answers = answersFor(name, qtype);
            log.push({ name, type: TYPE_NAME[qtype] ?? qtype, answers });

            const header = Buffer.alloc(12);
            msg.copy(header, 0, 0, 2);
            const rd = msg[2] & 0x01;
            header[2] = 0x84 | rd;                    // QR, AA, RD copied
            header[3] = 0x80 | (answers === null ? 3 : 0);   // RA, NXDOMAIN or NOERROR
            header.writeUInt16BE(1, 4);
            const list = answers ?? [];
            header.writeUInt16BE(list.length, 6);
            const parts = [header, question];
            for (const address of list) {
                const data = rdata(qtype, address);
                const rr = Buffer.alloc(12);
                rr.writeUInt16BE(0xc00c, 0);
                rr.writeUInt16BE(qtype, 2);
                rr.writeUInt16BE(1, 4);
                rr.writeUInt32BE(0, 6);
                rr.writeUInt16BE(data.length, 10);
                parts.push(rr, data);
            }
            socket.send(Buffer.concat(parts), rinfo.port, rinfo.address);
        } catch (err) {
            log.push({ error: String(err) });
        }
    });

    return new Promise((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => resolve({ socket, log }));
    });
}
