// The servers of one namespace, started by `run`:
//   node servers.mjs near READY_FILE   loopback and own-address victims, DNS, a loopback store
//   node servers.mjs far READY_FILE    private victims, the outside server, the port-8080
//                                      victim, two internal stores
// Each serves GET /state on its control address (topology.CONTROL) with every count and log.
// All HTTP here is hand-written over `net`, so that the outside server can lie in ways that a
// well-behaved HTTP library would not let it.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';

import { startDns } from './dns.mjs';
import { makePng, PNG_SIGNATURE } from './png.mjs';
import {
    CONTROL, DNS, DNS_RECORDS, OUTSIDE, PORT_VICTIM, STORE, VICTIM_PORTS, VICTIMS,
} from './topology.mjs';

const [role, readyFile] = process.argv.slice(2);
if (role !== 'near' && role !== 'far') {
    console.error('usage: servers.mjs near|far READY_FILE');
    process.exit(2);
}

const state = { role, victims: {}, secrets: {}, outside: [], stores: [], dns: [], errors: [] };
const sockets = new Set();

function listen(server, port, host) {
    return new Promise((resolve, reject) => {
        server.once('error',
            (err) => reject(new Error(`listen ${host} port ${port}: ${err.message}`)));
        server.listen({ port, host, ipv6Only: net.isIPv6(host) }, resolve);
    });
}

/** Reads one request head (at most 32 KiB) from `socket`, then calls `onRequest`. */
function rawServer(onConnection, onRequest) {
    return net.createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
        onConnection?.(socket);
        let head = Buffer.alloc(0);
        const onData = (data) => {
            head = Buffer.concat([head, data]);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0 && head.length < 32768) {
                return;
            }
            socket.off('data', onData);
            const text = head.subarray(0, end < 0 ? head.length : end).toString('latin1');
            const [requestLine, ...headerLines] = text.split('\r\n');
            const [method, target = '/'] = requestLine.split(' ');
            const headers = {};
            for (const line of headerLines) {
                const i = line.indexOf(':');
                if (i > 0) {
                    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
                }
            }
            onRequest(socket, { method, target, headers, requestLine });
        };
        socket.on('data', onData);
    });
}

function send(socket, status, headers, body = Buffer.alloc(0)) {
    const lines = [`HTTP/1.1 ${status} X`];
    const h = { 'Connection': 'close', ...headers };
    const hasLength = Object.keys(h).some((k) => k.toLowerCase() === 'content-length');
    if (!hasLength && !h['Transfer-Encoding']) {
        h['Content-Length'] = String(body.length);
    }
    for (const [k, v] of Object.entries(h)) {
        lines.push(`${k}: ${v}`);
    }
    socket.end(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]));
}

function sendHead(socket, status, headers) {
    const lines = [`HTTP/1.1 ${status} X`, 'Connection: close'];
    for (const [k, v] of Object.entries(headers)) {
        lines.push(`${k}: ${v}`);
    }
    socket.write(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

/** Writes `piece` again and again, respecting back-pressure, until the peer goes away. */
function pump(socket, piece, frame = (b) => b) {
    const framed = frame(piece);
    const more = () => {
        while (!socket.destroyed && socket.write(framed)) {
            // keep writing while the kernel takes it
        }
    };
    socket.on('drain', more);
    more();
}

/** Frames `b` as one chunk of a chunked body. */
function chunked(b) {
    return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
}

/** Calls `tick` every `ms` until it returns false or the socket closes. */
function drip(socket, ms, tick) {
    const timer = setInterval(() => {
        if (socket.destroyed || tick() === false) {
            clearInterval(timer);
        }
    }, ms);
    socket.on('close', () => clearInterval(timer));
}

// --- victims -----------------------------------------------------------------------------

function victimServer(label) {
    state.victims[label] ??= { connections: 0, requests: 0, seen: [] };
    state.secrets[label] ??= `OSPREY-NET-SECRET-${label}-${randomBytes(6).toString('hex')}`;
    const v = state.victims[label];
    return rawServer(
        (socket) => {
            v.connections += 1;
            const local = `${socket.localAddress}:${socket.localPort}`;
            v.seen.push({ at: Date.now(), local, request: null });
        },
        (socket, req) => {
            v.requests += 1;
            v.seen.at(-1).request = `${req.requestLine} host=${req.headers.host ?? ''}`;
            // A valid image, so that a fetch which reached a victim would sail through the type
            // check: the secret is in the image, and in a header and the body's tail as well.
            const secret = state.secrets[label];
            send(socket, 200, { 'Content-Type': 'image/png', 'X-Secret': secret },
                Buffer.concat([makePng({ text: secret }), Buffer.from(secret)]));
        });
}

// --- the outside server ------------------------------------------------------------------

const IMAGE = makePng({ width: 4, height: 4, text: 'outside image' });

function outsideRoute(socket, req, who) {
    const url = new URL(req.target, 'http://outside.invalid');
    const q = url.searchParams;
    state.outside.push({ at: Date.now(), who, target: req.target, host: req.headers.host ?? '' });
    switch (url.pathname) {
    case '/image.png':
        return send(socket, 200, { 'Content-Type': 'image/png' }, IMAGE);
    case '/image-labelled-html':   // the type comes from the bytes, not the header
        return send(socket, 200, { 'Content-Type': 'text/html' }, IMAGE);
    case '/redirect': {
        // Location exactly as given: absolute, relative, scheme-relative, other schemes.
        const code = Number(q.get('code') ?? 302);
        return send(socket, code, { 'Location': q.get('to') ?? '/image.png' }, IMAGE);
    }
    case '/chain': {
        const n = Number(q.get('n') ?? 0);
        if (n <= 0) {
            return send(socket, 200, { 'Content-Type': 'image/png' }, IMAGE);
        }
        return send(socket, 302, { 'Location': `/chain?n=${n - 1}` });
    }
    case '/loop':
        return send(socket, 302, { 'Location': '/loop' });
    case '/endless':   // chunked, never ends
        sendHead(socket, 200, { 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' });
        socket.write(`${PNG_SIGNATURE.length.toString(16)}\r\n`);
        socket.write(PNG_SIGNATURE);
        socket.write('\r\n');
        return pump(socket, Buffer.alloc(16384, 0x41),
            chunked);
    case '/endless-raw':   // no length at all: the body ends when the connection does
        sendHead(socket, 200, { 'Content-Type': 'image/png' });
        socket.write(PNG_SIGNATURE);
        return pump(socket, Buffer.alloc(16384, 0x42));
    case '/cl-small-chunked':   // Content-Length says 100, the chunked body never ends
        sendHead(socket, 200, {
            'Content-Type': 'image/png', 'Content-Length': '100', 'Transfer-Encoding': 'chunked',
        });
        socket.write(`${PNG_SIGNATURE.length.toString(16)}\r\n`);
        socket.write(PNG_SIGNATURE);
        socket.write('\r\n');
        return pump(socket, Buffer.alloc(16384, 0x43),
            chunked);
    case '/cl-huge':   // Content-Length far past the cap; a little sent, then nothing
        sendHead(socket, 200, { 'Content-Type': 'image/png', 'Content-Length': '1000000000' });
        socket.write(IMAGE);
        return undefined;
    case '/cl-huge-streaming':   // Content-Length past the cap, and the bytes to match it
        sendHead(socket, 200, { 'Content-Type': 'image/png', 'Content-Length': '1000000000' });
        socket.write(PNG_SIGNATURE);
        return pump(socket, Buffer.alloc(16384, 0x44));
    case '/cl-short':   // Content-Length 5000, 200 bytes, then the connection closes
        sendHead(socket, 200, { 'Content-Type': 'image/png', 'Content-Length': '5000' });
        socket.end(Buffer.concat([IMAGE, Buffer.alloc(200 - IMAGE.length)]).subarray(0, 200));
        return undefined;
    case '/slow-body': {   // a valid start, then one byte every 100 ms
        sendHead(socket, 200, { 'Content-Type': 'image/png', 'Content-Length': '1000' });
        socket.write(PNG_SIGNATURE);
        return drip(socket, 100, () => socket.write('x'));
    }
    case '/slow-headers':   // the head, one header line every 300 ms, never finished
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n');
        return drip(socket, 300, () => socket.write('X-Wait: 1\r\n'));
    case '/silent':   // never answers
        return undefined;
    case '/html':
        return send(socket, 200, { 'Content-Type': 'text/html' },
            Buffer.from('<!doctype html><html><body>hello</body></html>'));
    case '/svg':
        return send(socket, 200, { 'Content-Type': 'image/svg+xml' },
            Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'));
    case '/html-labelled-png':
        return send(socket, 200, { 'Content-Type': 'image/png' },
            Buffer.from('<html><body>not an image</body></html>'));
    case '/gzip':
        return send(socket, 200, { 'Content-Type': 'image/png', 'Content-Encoding': 'gzip' },
            gzipSync(IMAGE));
    case '/big-headers':
        return send(socket, 200,
            { 'Content-Type': 'image/png', 'X-Big': 'b'.repeat(100000) }, IMAGE);
    case '/status':
        return send(socket, Number(q.get('code') ?? 500), { 'Content-Type': 'image/png' }, IMAGE);
    default:
        return send(socket, 404, { 'Content-Type': 'text/plain' }, Buffer.from('no such path'));
    }
}

function outsideServer(who) {
    return rawServer(null, (socket, req) => outsideRoute(socket, req, who));
}

// --- internal media stores (allowed only by the operator of one instance) ------------------

function storeServer(who) {
    return rawServer(null, (socket, req) => {
        const url = new URL(req.target, 'http://store.invalid');
        const host = req.headers.host ?? '';
        state.stores.push({ at: Date.now(), who, target: req.target, host });
        if (url.pathname === '/redirect') {
            return send(socket, 302, { 'Location': url.searchParams.get('to') });
        }
        return send(socket, 200, { 'Content-Type': 'image/png' }, IMAGE);
    });
}

// --- wiring ----------------------------------------------------------------------------------

async function main() {
    for (const [label, v] of Object.entries(VICTIMS)) {
        if (v.ns !== role) {
            continue;
        }
        for (const port of VICTIM_PORTS) {
            await listen(victimServer(label), port, v.address);
        }
    }
    if (role === 'near') {
        const dns = await startDns({ ...DNS, records: DNS_RECORDS });
        state.dns = dns.log;
        await listen(storeServer('store-loopback'), STORE.loopPort, '127.0.0.1');
    } else {
        await listen(outsideServer('outside4'), 80, OUTSIDE.v4);
        await listen(outsideServer('outside6'), 80, OUTSIDE.v6);
        await listen(victimServer('port8080'), PORT_VICTIM.port, PORT_VICTIM.address);
        await listen(storeServer('store-cidr'), 80, STORE.cidr);
        await listen(storeServer('store-named'), 80, STORE.named);
    }
    const control = http.createServer((req, res) => {
        if (req.url === '/state') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(state));
        } else {
            res.writeHead(404).end();
        }
    });
    await listen(control, CONTROL[role].port, CONTROL[role].host);
    writeFileSync(readyFile, `${process.pid}\n`);
}

process.on('SIGTERM', () => {
    for (const s of sockets) {
        s.destroy();
    }
    process.exit(0);
});

main().catch((err) => {
    console.error(`servers.mjs ${role}: ${err.stack ?? err}`);
    process.exit(1);
});
