// The driver behind bench/prefix_reuse. Time to first token is measured from sending the
// request to the first SSE event that carries text, with fetch on loopback.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { firstToken, systemPrompt } from './lib/prefix_prompt.mjs';

const rounds = Number(process.argv[2]);
const model = process.argv[3] || (existsSync('../shared/models/stories260K.gguf')
    ? '../shared/models/stories260K.gguf' : 'build/test-model.gguf');
const SYSTEM_WORDS = 1000;

const server = spawn('build/osprey', ['serve', '--model', model, '--host', '127.0.0.1',
    '--port', '0', '--ctx-size', '4096', '--parallel', '2']);
let log = '';
server.stderr.on('data', (d) => {
    if (log.length < 1 << 16) {
        log += d;
    }
});
process.on('exit', () => server.kill('SIGKILL'));

async function waitReady() {
    for (let i = 0; i < 300; ++i) {
        const port = /http\.listening.*port=(\d+)/.exec(log)?.[1];
        if (port && await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) {
            return `http://127.0.0.1:${port}`;
        }
        await sleep(100);
    }
    throw new Error(`server not ready:\n${log}`);
}

const origin = await waitReady();
const id = (await fetch(`${origin}/v1/models`).then((r) => r.json())).data[0].id;
await firstToken(origin, id, systemPrompt(0, SYSTEM_WORDS), 'Warm up.');
const rows = [];
for (let round = 1; round <= rounds; ++round) {
    const system = systemPrompt(round, SYSTEM_WORDS);
    const first = await firstToken(origin, id, system, 'What did the cat do?');
    const second = await firstToken(origin, id, system, 'Where did the dog go?');
    rows.push({ first, second });
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`model ${model}, system prompt ${rows[0].first.prompt} tokens, ${rounds} rounds`);
console.log('round  first ttft (cached)   second ttft (cached)   ratio');
rows.forEach(({ first, second }, i) => {
    console.log(`${String(i + 1).padStart(5)}  ${first.ttft.toFixed(1).padStart(8)} ms (${first.cached})`
        + `   ${second.ttft.toFixed(1).padStart(8)} ms (${second.cached})`
        + `   ${(first.ttft / second.ttft).toFixed(1)}x`);
});
const ratio = median(rows.map((r) => r.first.ttft)) / median(rows.map((r) => r.second.ttft));
console.log(`median first / median second: ${ratio.toFixed(1)}x`);
process.exit(0);
