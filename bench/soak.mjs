// The soak driver behind bench/soak. Streams through fetch and reads every SSE event, so a
// stream that ends without [DONE] or with an error event counts as an error.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const total = Number(process.argv[2]);
const concurrency = Number(process.argv[3]);
const model = existsSync('../shared/models/stories260K.gguf')
    ? '../shared/models/stories260K.gguf' : 'build/test-model.gguf';

const server = spawn('build/osprey', ['serve', '--model', model, '--host', '127.0.0.1',
    '--port', '0', '--parallel', '8', '--max-queue', String(concurrency * 2)]);
let log = '';
server.stderr.on('data', (d) => {
    if (log.length < 1 << 16) {
        log += d;  // enough for the start-up lines; the rest is one line per request
    }
});
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]);

async function waitReady() {
    for (let i = 0; i < 300; ++i) {
        const port = /http\.listening.*port=(\d+)/.exec(log)?.[1];
        if (port) {
            const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
            if (ok) {
                return port;
            }
        }
        await sleep(100);
    }
    throw new Error(`server not ready:\n${log}`);
}

// One streaming chat; resolves with null on success or a short reason.
async function stream(origin, id, i) {
    const res = await fetch(`${origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
            model: id, messages: [{ role: 'user', content: `Tell story number ${i}.` }],
            max_tokens: 32 + (i % 64), stream: true,
        }),
    }).catch((e) => ({ error: e }));
    if (res.error) {
        return `fetch: ${res.error.message}`;
    }
    const text = await res.text().catch((e) => `read: ${e.message}`);
    if (res.status !== 200) {
        return `status ${res.status}: ${text.slice(0, 120)}`;
    }
    if (!text.trimEnd().endsWith('data: [DONE]') || text.includes('"error"')) {
        return `bad stream end: ${text.slice(-120)}`;
    }
    return null;
}

// The server goes down with this script, however it ends.
process.on('exit', () => server.kill('SIGKILL'));
const port = await waitReady();
const models = await fetch(`http://127.0.0.1:${port}/v1/models`).then((r) => r.json());
const origin = `http://127.0.0.1:${port}`;
const id = models.data[0].id;
const start = rss();
let peak = start;
let next = 0;
const errors = [];
const began = Date.now();
const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 200);
await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
        const i = next++;
        const error = await stream(origin, id, i).then((e) => e, (e) => `threw: ${e.message}`);
        if (error) {
            errors.push(error);
        }
    }
}));
clearInterval(sampler);
await sleep(500);
const end = rss();
server.kill('SIGTERM');
const seconds = (Date.now() - began) / 1000;
console.log(`soak: ${total} streaming requests, ${concurrency} at a time, in ${seconds.toFixed(1)} s`);
console.log(`errors: ${errors.length}`);
for (const e of errors.slice(0, 5)) {
    console.log(`  ${e}`);
}
console.log(`RSS: start ${(start / 1024).toFixed(1)} MiB, peak ${(peak / 1024).toFixed(1)} MiB, end ${(end / 1024).toFixed(1)} MiB`);
process.exitCode = errors.length === 0 ? 0 : 1;
