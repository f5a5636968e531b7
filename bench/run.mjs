// The driver behind bench/run: osprey and llama.cpp's llama-server, side by side on one
// model, one machine and one load generator (osprey-bench-load), with llama-bench's raw
// figures for the same model (its decode beside each short single-stream run), and the
// idle-streams scenario. Writes bench/RESULTS.md.
// Every socket is on 127.0.0.1.

import { spawn, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { firstToken, systemPrompt } from './lib/prefix_prompt.mjs';

const env = (name) => {
    const value = process.env[name];
    if (!value) {
        throw new Error(`bench/run.mjs: ${name} is not set (run bench/run)`);
    }
    return value;
};

const paths = {
    osprey: env('BENCH_OSPREY'),
    llamaServer: env('BENCH_LLAMA_SERVER'),
    llamaBench: env('BENCH_LLAMA_BENCH'),
    load: env('BENCH_LOAD'),
};
const quick = process.env.BENCH_QUICK === '1';
const models = [
    // Its 512-token vocabulary takes about 4 tokens a word, hence the longer slots.
    { key: 'trained', label: 'stories260K (trained, 0.3 M parameters, F32)',
        path: env('BENCH_TRAINED_MODEL'), ctxPerSlot: 2048 },
    { key: 'realistic', label: 'generated realistic shape (336 M parameters, Q4_0)',
        path: env('BENCH_REALISTIC_MODEL'), ctxPerSlot: 1024 },
];

// One configuration for both servers. Each slot holds a long prompt and its answer.
const threads = Number(process.env.BENCH_THREADS || cpus().length);
const parallel = 64;
const batch = 512;
const maxTokens = 128;
const concurrencies = quick ? [1, 4] : [1, 4, 16, 64];
const prompts = [
    { key: 'short', words: 24 },
    { key: 'long', words: 300 },
];
// Requests per run of a level, enough that one slow request does not make its figures: 16
// for one client on short prompts, where the single-stream targets are read (with four, their
// medians and p99s swung), and at least 4 elsewhere.
const requestsAt = (c, prompt) => (c === 1 && prompt === prompts[0] ? 16 : Math.max(c, 4));
// Runs of each level, whose medians the tables give: three up to 16 clients (the targets'
// levels), one at 64, where a run takes minutes and holds 64 requests already.
const repeatsAt = (c) => (quick || c > 16 ? 1 : 3);
const port = { osprey: 18361, 'llama-server': 18362 };
// Neither model carries a chat template, and each server has its own fallback for that; both
// render this one instead (ChatML, the shape of many real models), so that a prompt is the same
// tokens on both.
const chatTemplate = new URL('chat_template.jinja', import.meta.url).pathname;
const eos = 2;  // </s> in both models' SentencePiece vocabulary, banned so every answer is 128 tokens

const work = mkdtempSync(join(tmpdir(), 'osprey-bench-'));

// `slots` is --parallel, or -np: the idle-streams scenario keeps one only.
function serverArgs(name, model, slots) {
    const common = ['--host', '127.0.0.1', '--port', String(port[name]), '--threads',
        String(threads), '--batch-size', String(batch), '--ubatch-size', String(batch),
        '--alias', model.key];
    if (name === 'osprey') {
        return ['serve', '--model', model.path, ...common, '--chat-template-file', chatTemplate,
            '--ctx-size', String(model.ctxPerSlot), '--parallel', String(slots),
            '--max-queue', '1024', '--log-level', 'warn'];
    }
    // llama-server's -c is the whole cache, which -np splits among its slots. It reads the
    // template file as Jinja only with --jinja before it.
    return ['-m', model.path, ...common, '--jinja', '--chat-template-file', chatTemplate,
        '-c', String(model.ctxPerSlot * slots), '-np', String(slots), '--no-webui'];
}

async function startServer(name, model, slots = parallel) {
    const binary = name === 'osprey' ? paths.osprey : paths.llamaServer;
    // Into a file, not a pipe: the load generator runs synchronously, and a pipe that nobody
    // drains meanwhile would stop a server that logs each request once it filled.
    const logPath = join(work, `${name}-${model.key}-${Date.now()}.log`);
    const logFd = openSync(logPath, 'w');
    const child = spawn(binary, serverArgs(name, model, slots),
        { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const log = () => readFileSync(logPath, 'utf8').slice(-20000);
    const origin = `http://127.0.0.1:${port[name]}`;
    for (let i = 0; i < 600; ++i) {
        if (child.exitCode !== null) {
            break;
        }
        if (await fetch(`${origin}/health`).then((r) => r.ok, () => false)) {
            return { name, child, origin, log };
        }
        await sleep(100);
    }
    child.kill('SIGKILL');
    throw new Error(`${name} did not start:\n${log()}`);
}

async function stopServer(server) {
    server.child.kill('SIGTERM');
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    if (await Promise.race([exited.then(() => true), sleep(15000).then(() => false)]) === false) {
        server.child.kill('SIGKILL');
        await exited;
    }
}

function runLoad(server, modelId, args) {
    const out = join(work, `load-${Date.now()}.json`);
    execFileSync(paths.load, ['--port', String(port[server.name]), '--model', modelId,
        '--server-pid', String(server.child.pid), '--out', out, ...args],
    { stdio: ['ignore', 'inherit', 'inherit'] });
    return JSON.parse(readFileSync(out, 'utf8'));
}

// The middle value, the upper one of an even count.
function median(xs) {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

// A level's figures from several runs: the median of each figure, the highest peak RSS, and
// every error. One run of a level moves by 10% or more on a shared machine.
function medianOfRuns(runs) {
    if (runs.length === 1) {
        return runs[0];
    }
    const medianOf = (pick) => median(runs.map(pick));
    const p50p99 = (key) => ({ p50: medianOf((r) => r[key].p50), p99: medianOf((r) => r[key].p99) });
    return {
        ...runs[0],
        runs: runs.length,
        tokens_per_s: medianOf((r) => r.tokens_per_s),
        ttft_ms: p50p99('ttft_ms'),
        itl_ms: p50p99('itl_ms'),
        decode_tokens_per_s: p50p99('decode_tokens_per_s'),
        peak_rss_mb: Math.max(...runs.map((r) => r.peak_rss_mb)),
        errors: runs.reduce((sum, r) => sum + r.errors, 0),
        error_samples: runs.flatMap((r) => r.error_samples ?? []),
    };
}

// Both servers up at once, idle but for the one under load: each level runs on one and then
// the other, in alternating order, so that a slow spell of the machine falls on both alike.
async function measureServers(model) {
    const servers = [];
    try {
        for (const name of ['llama-server', 'osprey']) {
            servers.push(await startServer(name, model));
        }
        const runs = { 'llama-server': {}, osprey: {} };
        const rawDecodes = [];
        for (const server of servers) {
            // One request first, so neither server's first-request costs land in a level.
            runLoad(server, model.key, ['--concurrency', '1', '--max-tokens', '8',
                '--prompt-words', '8']);
        }
        for (const prompt of prompts) {
            for (const c of concurrencies) {
                const level = `${prompt.key}/${c}`;
                for (let rep = 0; rep < repeatsAt(c); ++rep) {
                    const order = rep % 2 === 0 ? servers : [...servers].reverse();
                    for (const server of order) {
                        process.stdout.write(`${model.key} ${server.name} ${level} run ${rep + 1}: `);
                        const result = runLoad(server, model.key, [
                            '--concurrency', String(c), '--requests', String(requestsAt(c, prompt)),
                            '--max-tokens', String(maxTokens), '--prompt-words', String(prompt.words),
                            '--temperature', '0', '--logit-bias-token', String(eos),
                            '--timeout-s', '600', '--seed', String(c * 7 + prompt.words + rep * 1000)]);
                        (runs[server.name][level] ??= []).push(result);
                    }
                    if (c === 1 && prompt === prompts[0]) {
                        // The engine's own decode speed, in the same spell of the machine as
                        // each single-stream run: its ceiling moves with the machine as well.
                        process.stdout.write(`${model.key} llama-bench tg${maxTokens} ` +
                            `run ${rep + 1}: `);
                        const { decode } = llamaBench(model, { prompt: 0, decode: maxTokens });
                        process.stdout.write(`${fixed(decode)} tokens/s\n`);
                        rawDecodes.push(decode);
                    }
                }
            }
        }
        const results = {};
        for (const [name, levels] of Object.entries(runs)) {
            results[name] = Object.fromEntries(
                Object.entries(levels).map(([level, list]) => [level, medianOfRuns(list)]));
        }
        return { results, rawDecode: median(rawDecodes) };
    } finally {
        for (const server of servers) {
            await stopServer(server);
        }
    }
}

// llama-bench: the engine alone, no server, on the same threads and batch. `prompt` and
// `decode` are its -p and -n: the tokens of prompt processing and of decode, 0 to skip one.
function llamaBench(model, { prompt, decode }) {
    const json = execFileSync(paths.llamaBench, ['-m', model.path, '-t', String(threads),
        '-b', String(batch), '-ub', String(batch), '-p', String(prompt), '-n', String(decode),
        '-r', quick ? '1' : '3', '-o', 'json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = JSON.parse(json.toString());
    const find = (test) => rows.find((r) => r[test.key] === test.n && r[test.other] === 0);
    return {
        decode: find({ key: 'n_gen', n: decode, other: 'n_prompt' })?.avg_ts,
        prompt: find({ key: 'n_prompt', n: prompt, other: 'n_gen' })?.avg_ts,
    };
}

// 1,000 streaming requests held open while the only slot is busy: what they cost osprey.
async function idleStreams(model) {
    // One slot of 4096 tokens, so that the blocking answer runs for half a minute.
    const server = await startServer('osprey', { ...model, ctxPerSlot: 4096 }, 1);
    try {
        const blocker = new AbortController();
        const blocking = fetch(`${server.origin}/v1/chat/completions`, {
            method: 'POST', signal: blocker.signal,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: model.key, max_tokens: 4000, stream: true,
                logit_bias: { [eos]: -100 },
                messages: [{ role: 'user', content: 'Tell me a very long story.' }] }),
        }).then(async (res) => {
            for await (const chunk of res.body) {
                void chunk;
            }
        }).catch(() => {});
        await sleep(1000);
        process.stdout.write('idle streams: ');
        const held = runLoad(server, model.key, ['--concurrency', '1000', '--hold-s', '5',
            '--max-tokens', '1000', '--prompt-words', '24', '--timeout-s', '120']);
        blocker.abort();
        await blocking;
        return held;
    } finally {
        await stopServer(server);
    }
}

// A system prompt of 1,000 words (about 1,000 tokens on the realistic model), new to the
// server each round, with one question and then another: the second should reuse it.
const systemWords = 1000;

async function prefixReuse(name, model) {
    const noEnd = { logit_bias: { [eos]: -100 } };
    const server = await startServer(name, { ...model, ctxPerSlot: 2048 }, 4);
    try {
        await firstToken(server.origin, model.key, systemPrompt(0, systemWords), 'Warm up.',
            noEnd);
        const rounds = [];
        for (let round = 1; round <= 3; ++round) {
            const system = systemPrompt(round, systemWords);
            const first = await firstToken(server.origin, model.key, system, 'What did the cat do?',
                noEnd);
            const second = await firstToken(server.origin, model.key, system,
                'Where did the dog go?', noEnd);
            rounds.push({ first, second });
        }
        const first = median(rounds.map((r) => r.first.ttft));
        const second = median(rounds.map((r) => r.second.ttft));
        process.stdout.write(`prefix reuse ${name}: ${first.toFixed(0)} ms, then ${second.toFixed(0)} ms\n`);
        return { first, second, prompt: rounds[0].first.prompt, cached: rounds[0].second.cached };
    } finally {
        await stopServer(server);
    }
}

const fixed = (x, digits = 1) => (x === undefined || x === null ? 'n/a' : x.toFixed(digits));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a');

function serverTable(model, results) {
    const lines = [
        '| prompt (tokens) | clients | server | tokens/s | TTFT p50 | TTFT p99 | ITL p50 | ' +
            'ITL p99 | errors | peak RSS |',
        '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const prompt of prompts) {
        for (const c of concurrencies) {
            for (const name of ['llama-server', 'osprey']) {
                const r = results[name][`${prompt.key}/${c}`];
                lines.push(`| ${prompt.key} (${fixed(r.prompt_tokens.mean, 0)}) | ${c} | ${name} | ` +
                    `${fixed(r.tokens_per_s)} | ` +
                    `${fixed(r.ttft_ms.p50)} ms | ${fixed(r.ttft_ms.p99)} ms | ` +
                    `${fixed(r.itl_ms.p50)} ms | ${fixed(r.itl_ms.p99)} ms | ${r.errors} | ` +
                    `${fixed(r.peak_rss_mb, 0)} MB |`);
            }
        }
    }
    return lines.join('\n');
}

// osprey ÷ llama-server for each figure. Throughput: above 1 is better. Latency: below 1 is
// better, so those columns are llama-server ÷ osprey to read the same way.
function ratioTable(results) {
    const lines = [
        '| prompt | clients | tokens/s | TTFT p50 | TTFT p99 | ITL p50 | ITL p99 | peak RSS |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const prompt of prompts) {
        for (const c of concurrencies) {
            const o = results.osprey[`${prompt.key}/${c}`];
            const l = results['llama-server'][`${prompt.key}/${c}`];
            lines.push(`| ${prompt.key} | ${c} | ${ratio(o.tokens_per_s, l.tokens_per_s)} | ` +
                `${ratio(l.ttft_ms.p50, o.ttft_ms.p50)} | ${ratio(l.ttft_ms.p99, o.ttft_ms.p99)} | ` +
                `${ratio(l.itl_ms.p50, o.itl_ms.p50)} | ${ratio(l.itl_ms.p99, o.itl_ms.p99)} | ` +
                `${ratio(l.peak_rss_mb, o.peak_rss_mb)} |`);
        }
    }
    return lines.join('\n');
}

// The targets of issue 6 that this run can show, each with its figures.
function targets(model, results, raw) {
    const o1 = results.osprey['short/1'];
    const l1 = results['llama-server']['short/1'];
    const decode = (r) => r.decode_tokens_per_s.p50;
    const rows = [
        ['single stream decode ≥ 1.00x llama-server', decode(o1) / decode(l1), 1.0,
            `${fixed(decode(o1))} vs ${fixed(decode(l1))} tokens/s`],
        ['single stream decode ≥ 0.95x llama-bench', decode(o1) / raw.decode, 0.95,
            `${fixed(decode(o1))} vs ${fixed(raw.decode)} tokens/s`],
        ['single stream TTFT no worse than llama-server', l1.ttft_ms.p50 / o1.ttft_ms.p50, 1.0,
            `${fixed(o1.ttft_ms.p50)} vs ${fixed(l1.ttft_ms.p50)} ms`],
    ];
    if (results.osprey['short/16']) {
        const o16 = results.osprey['short/16'];
        const l16 = results['llama-server']['short/16'];
        rows.push(['16 streams: tokens/s ≥ 1.10x llama-server',
            o16.tokens_per_s / l16.tokens_per_s, 1.10,
            `${fixed(o16.tokens_per_s)} vs ${fixed(l16.tokens_per_s)} tokens/s`]);
        rows.push(['16 streams: no errors', o16.errors === 0 ? 1 : 0, 1, `${o16.errors} errors`]);
        rows.push(['16 streams: p99 ITL no worse', l16.itl_ms.p99 / o16.itl_ms.p99, 1.0,
            `${fixed(o16.itl_ms.p99)} vs ${fixed(l16.itl_ms.p99)} ms`]);
    }
    const lines = ['| target | ratio | met | figures |', '|---|---:|---|---|'];
    for (const [what, value, bound, figures] of rows) {
        const met = value >= bound ? 'yes' : '**no**';
        lines.push(`| ${what} | ${fixed(value, 2)} | ${met} | ${figures} |`);
    }
    return lines.join('\n');
}

function errorSamples(results) {
    const lines = [];
    for (const [name, levels] of Object.entries(results)) {
        for (const [level, r] of Object.entries(levels)) {
            if (r.error_samples?.length > 0) {
                lines.push(`- ${name} ${level}: \`${r.error_samples[0].slice(0, 300)}\``);
            }
        }
    }
    return lines;
}

function machine() {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    return `${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

const git = (args) => execFileSync('git', args).toString().trim();

async function main() {
    const sections = [];
    const started = new Date();
    for (const model of models) {
        const { prompt } = llamaBench(model, { prompt: 512, decode: 0 });
        const { results, rawDecode } = await measureServers(model);
        sections.push({ model, raw: { prompt, decode: rawDecode }, results });
    }
    const prefix = {};
    for (const name of ['llama-server', 'osprey']) {
        prefix[name] = await prefixReuse(name, models[1]);
    }
    const idle = await idleStreams(models[1]);
    writeResults(started, sections, prefix, idle);
}

function prefixSection(prefix) {
    const lines = [
        '| server | first request | second request | speed-up | prompt tokens | reused |',
        '|---|---:|---:|---:|---:|---:|',
    ];
    for (const [name, p] of Object.entries(prefix)) {
        lines.push(`| ${name} | ${fixed(p.first)} ms | ${fixed(p.second)} ms | ` +
            `${fixed(p.first / p.second)}x | ${p.prompt ?? 'n/a'} | ${p.cached ?? 'n/a'} |`);
    }
    const met = prefix.osprey.first / prefix.osprey.second >= 5 ? 'met' : '**not met**';
    lines.push('', `Target, osprey's second request at least 5x faster: ${met}.`);
    return lines.join('\n');
}

function writeResults(started, sections, prefix, idle) {
    const commit = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (with local changes)' : '';
    const llamaCommit = readFileSync(join(paths.llamaServer, '..', 'llama-commit'), 'utf8').trim();
    const out = [
        '# osprey against llama-server',
        '',
        `Written by \`bench/run\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
        `Machine: ${machine()}. osprey commit ${commit}${dirty}; llama.cpp ${llamaCommit} from ` +
            'node-llama-cpp, built with the same flags for both servers.',
        '',
        `Both servers: ${threads} threads, ${parallel} slots (of 2048 tokens for stories260K, ` +
            `1024 for the realistic model), batch and ` +
            `ubatch ${batch}, flash attention left at llama.cpp's default. Each level sends ` +
            'streaming chat completions from osprey-bench-load, one keep-alive connection per ' +
            `client, ${maxTokens} output tokens each (end-of-text banned with logit_bias), ` +
            'greedy; every prompt is new from its first word, so neither server reuses a prefix. ' +
            'Neither model has a chat template, so both servers render the same ChatML one ' +
            '(`bench/chat_template.jinja`): a prompt is the same tokens on both. ' +
            'Short prompts are about 24 words, long ones about 300 (the mean prompt tokens are ' +
            'in the tables). One client on short prompts sends 16 requests a run, other levels ' +
            'at least 4. Each level up to 16 clients runs three times, alternating which ' +
            'server goes first, and the tables give the median of each figure (the highest ' +
            'peak RSS, every error); 64 clients run once. TTFT is from the request ' +
            'to its first token; ITL is the gap between tokens of one stream. Peak RSS is the ' +
            'server\'s, per level.',
        '',
    ];
    for (const { model, raw, results } of sections) {
        out.push(`## ${model.label}`, '');
        out.push(`llama-bench: decode ${fixed(raw.decode)} tokens/s (tg${maxTokens}, the median ` +
            'of one run beside each short-prompt single-stream run of the servers), prompt ' +
            `${fixed(raw.prompt)} tokens/s (pp512).`, '');
        out.push(serverTable(model, results), '');
        out.push('osprey against llama-server (above 1 is osprey\'s advantage in every column):', '');
        out.push(ratioTable(results), '');
        out.push('Targets:', '', targets(model, results, raw), '');
        const failures = errorSamples(results);
        if (failures.length > 0) {
            out.push('Errors seen (the first of each level):', '', ...failures, '');
        }
    }
    out.push('## A repeated system prompt', '');
    out.push(`Time to first token on ${models[1].label}, 4 slots: a system prompt of about ` +
        '1,000 tokens, new each round, with one question, then with another. Medians of 3 ' +
        'rounds; the second request reuses the system prompt from the KV cache.', '');
    out.push(prefixSection(prefix), '');
    out.push('## 1,000 idle streams', '');
    out.push(`osprey with one slot busy on a long answer and 1,000 more streaming requests ` +
        `queued (${models[1].label}): ${idle.open} streams open, ${idle.refused} refused; ` +
        `RSS ${fixed(idle.rss_before_mb)} MB before, ${fixed(idle.rss_held_mb)} MB while held: ` +
        `${fixed(idle.rss_delta_mb)} MB in all, ${fixed(idle.per_stream_kb)} KB per stream ` +
        `(target: under 200 MB).`, '');
    writeFileSync('bench/RESULTS.md', out.join('\n'));
    process.stdout.write('wrote bench/RESULTS.md\n');
}

await main();
