// --chat-template-file: the server renders chats with the operator's template instead of the
// model's own or the fallback, and refuses to start on a template it cannot use.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import OpenAI from 'openai';

import { STORY_PROMPT } from './lib/api.mjs';
import { serverBinary, startServer, testModels } from './lib/server.mjs';

const enabled = serverBinary() && testModels().length > 0;
const suite = enabled ? describe : (title, fn) => describe(title, { skip: 'no server' }, fn);

suite('--chat-template-file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'osprey-e2e-template-'));
    const template = (name, text) => {
        const path = join(dir, name);
        writeFileSync(path, text);
        return path;
    };
    const model = testModels()[0];
    let server;
    let client;

    before(async () => {
        // The last message's text and nothing else: a chat then is the bare completion of it.
        const lastMessage = template('last.jinja', '{{- messages[-1].content -}}');
        server = await startServer(model.path, { args: ['--chat-template-file', lastMessage] });
        client = new OpenAI({ baseURL: server.baseURL, apiKey: 'x', maxRetries: 0 });
    });
    after(async () => {
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    it('says at start-up that the template comes from the file', () => {
        assert.match(server.log(), /model\.loaded .*chat_template=file/);
    });

    it('renders chats with it', async () => {
        const params = { model: model.id, max_tokens: 12, temperature: 0 };
        const chat = await client.chat.completions.create({ ...params,
            messages: [{ role: 'user', content: STORY_PROMPT }] });
        const bare = await client.completions.create({ ...params, prompt: STORY_PROMPT });
        assert.equal(chat.usage.prompt_tokens, bare.usage.prompt_tokens);
        assert.equal(chat.choices[0].message.content.trim(), bare.choices[0].text.trim());
    });

    async function refusal(text) {
        const path = template(`refused-${Math.random().toString(36).slice(2)}.jinja`, text);
        try {
            const started = await startServer(model.path, { args: ['--chat-template-file', path] });
            await started.stop();
        } catch (err) {
            return err.message;
        }
        assert.fail(`the server started with the template ${JSON.stringify(text)}`);
    }

    it('refuses an empty template', async () => {
        const message = await refusal(' \n');
        assert.match(message, /exit code 1/);
        assert.match(message, /the chat template file is empty/);
    });

    it('refuses a template that does not parse', async () => {
        const message = await refusal('{% for message in messages %}{{ message.content }}');
        assert.match(message, /exit code 1/);
        // The parser's own reason, with where it stopped, not a bare exception name.
        assert.match(message, /the chat template does not parse: \S/);
        assert.doesNotMatch(message, /does not parse: std::exception/);
    });

    it('refuses a file that is not there', async () => {
        const missing = join(dir, 'missing.jinja');
        const err = await startServer(model.path, { args: ['--chat-template-file', missing] })
            .then(async (s) => { await s.stop(); return null; }, (e) => e);
        assert.ok(err, 'the server started without its template file');
        assert.match(err.message, /File does not exist/);
    });
});
