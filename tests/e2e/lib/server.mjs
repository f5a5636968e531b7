// Starts and stops osprey processes for the end-to-end tests.
//
// Each server binds port 0 on loopback, so tests never collide with anything else on the
// machine; the port it got is read back from its "http.listening" log line.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const LISTENING_LINE = /http\.listening\b.*\bport=(\d+)/;
const STDERR_KEEP_CHARS = 20_000;

// Every child still alive, so that a test process that crashes or is interrupted (a CTest
// timeout, Ctrl-C) does not leave servers behind.
const live_children = new Set();
const killChildren = () => {
    for (const child of live_children) {
        child.kill('SIGKILL');
    }
};
process.on('exit', killChildren);
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
    process.on(signal, () => {
        killChildren();
        process.exit(128 + number);
    });
}

/** Path of the server binary, or undefined when the suite should be skipped. */
export function serverBinary() {
    return process.env.OSPREY_BIN || undefined;
}

/** The GGUF files named by OSPREY_TEST_MODELS, each with the model id osprey derives. */
export function testModels() {
    const list = (process.env.OSPREY_TEST_MODELS ?? '').split(',');
    return list
        .map((path) => path.trim())
        .filter((path) => path.length > 0)
        .map((path) => ({ path, id: basename(path).replace(/\.gguf$/, '') }));
}

/**
 * Starts `osprey serve` on `model_path` and resolves once GET /health answers 200.
 * `args` are extra command-line flags; `env` adds environment variables.
 * Rejects, with the server's stderr in the message, if it exits or is not ready in time.
 */
export async function startServer(model_path, { args = [], env = {} } = {}) {
    if (!existsSync(model_path)) {
        throw new Error(`model file not found: ${model_path}`);
    }
    // One thread: the test models are tiny, and on a loaded machine (CTest runs other tests
    // beside this one) threads that wait on each other make requests 10-100 times slower.
    // A test may name its own context size (media takes hundreds of tokens).
    const ctx = args.includes('--ctx-size') ? [] : ['--ctx-size', '512'];
    const parallel = args.includes('--parallel') ? [] : ['--parallel', '2'];
    // Each server keeps its stored responses in a folder of its own, unless the test names one
    // (to restart a server on the same store).
    const dataDir = args.includes('--data-dir') || args.includes('--store') ? []
        : ['--data-dir', mkdtempSync(join(tmpdir(), 'osprey-e2e-data-'))];
    const argv = [
        'serve', '--model', model_path, '--host', '127.0.0.1', '--port', '0',
        ...ctx, ...parallel, '--threads', '1', ...dataDir, ...args,
    ];
    const child = spawn(serverBinary(), argv, {
        env: { ...inheritedEnv(), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new RunningServer(child, argv);
    if (dataDir.length > 0) {
        server.exited.then(() => rmSync(dataDir[1], { recursive: true, force: true }));
    }

    try {
        const port = await server.waitForPort();
        server.setPort(port);
        await server.waitForHealthy();
    } catch (err) {
        await server.stop();
        throw err;
    }
    return server;
}

// The caller's OSPREY_* variables would reach the server as options (an OSPREY_API_KEY in the
// developer's shell would turn every test into a 401), so only those a test sets get through.
function inheritedEnv() {
    return Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith('OSPREY_')));
}

class RunningServer {
    constructor(child, argv) {
        this.child = child;
        this.argv = argv;
        this.port = undefined;
        this.exit = undefined;
        this.logText = '';

        live_children.add(child);
        child.stdout.setEncoding('utf8');
        child.stderr.setEncoding('utf8');
        child.stdout.on('data', (text) => this.appendLog(text));
        child.stderr.on('data', (text) => this.appendLog(text));
        this.exited = new Promise((resolve) => {
            child.on('exit', (code, signal) => {
                live_children.delete(child);
                this.exit = { code, signal };
                resolve(this.exit);
            });
        });
        child.on('error', (err) => this.appendLog(`\n[spawn failed: ${err.message}]\n`));
    }

    appendLog(text) {
        this.logText = (this.logText + text).slice(-STDERR_KEEP_CHARS);
    }

    setPort(port) {
        this.port = port;
        this.origin = `http://127.0.0.1:${port}`;
        this.baseURL = `${this.origin}/v1`;
    }

    /** True while the process has not exited: a crash during a test shows up here. */
    isAlive() {
        return this.exit === undefined;
    }

    /** What the server wrote so far, for failure messages. */
    log() {
        return this.logText;
    }

    describeFailure(why) {
        const { exit } = this;
        const status = exit ? ` (exit code ${exit.code}, signal ${exit.signal})` : '';
        return `${why}${status}\ncommand: osprey ${this.argv.join(' ')}\n--- server output ---\n` +
            this.logText;
    }

    async waitForPort() {
        const deadline = Date.now() + START_TIMEOUT_MS;
        while (Date.now() < deadline) {
            const match = LISTENING_LINE.exec(this.logText);
            if (match) {
                return Number(match[1]);
            }
            if (!this.isAlive()) {
                throw new Error(this.describeFailure('server exited before listening'));
            }
            await sleep(20);
        }
        throw new Error(this.describeFailure('no http.listening line within 30 s'));
    }

    // 503 means the model is still loading; anything else but 200 is a failure to report.
    async waitForHealthy() {
        const deadline = Date.now() + START_TIMEOUT_MS;
        let last = 'no answer';
        while (Date.now() < deadline) {
            if (!this.isAlive()) {
                throw new Error(this.describeFailure('server exited while loading'));
            }
            try {
                const res = await fetch(`${this.origin}/health`);
                const body = await res.text();
                if (res.status === 200) {
                    return;
                }
                last = `${res.status} ${body}`;
            } catch (err) {
                last = err.message;
            }
            await sleep(50);
        }
        throw new Error(this.describeFailure(`/health not 200 within 30 s (last: ${last})`));
    }

    /** SIGTERM, then SIGKILL if the process has not exited after a grace period. */
    async stop() {
        if (!this.isAlive()) {
            return this.exit;
        }
        this.child.kill('SIGTERM');
        // Unref'd, so a pending grace timer does not keep the test process alive.
        const grace = sleep(STOP_GRACE_MS, null, { ref: false });
        const graceful = await Promise.race([this.exited, grace]);
        if (graceful) {
            return graceful;
        }
        this.child.kill('SIGKILL');
        return this.exited;
    }
}
