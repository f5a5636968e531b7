// Images, audio and video reaching the model, through the official SDK. The models are tiny
// and random (a generated gemma3 text model, the shared gemma3 vision projector, a generated
// audio projector), so the answers are noise; what is checked is that media gets through the
// gate, is decoded and is counted in usage, and that bad media is a 400 naming the part while
// the server keeps serving. Media files come from osprey-make-media-fixtures.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import { BadRequestError } from 'openai';

import { assertServing, expectApiError, readStream } from './lib/api.mjs';
import { serverBinary } from './lib/server.mjs';
import { useServer } from './lib/suite.mjs';

const FIXTURES = process.env.OSPREY_MEDIA_FIXTURES;
const GEMMA3 = process.env.OSPREY_TEST_GEMMA3;
const VISION_MMPROJ = process.env.OSPREY_VISION_MMPROJ;
const AUDIO_MMPROJ = process.env.OSPREY_TEST_AUDIO_MMPROJ;
const MEDIA_PORT = 20000 + ((process.pid + 7919) % 20000);

const fixture = (name) => readFileSync(join(FIXTURES, name));
const dataUri = (name, type) => `data:${type};base64,${fixture(name).toString('base64')}`;

// A loopback media server handing out the fixtures, counting requests per path.
function startMediaServer() {
    const state = { hits: new Map(), server: undefined };
    state.server = createServer((req, res) => {
        const name = req.url.slice(1);
        state.hits.set(name, (state.hits.get(name) ?? 0) + 1);
        try {
            res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(fixture(name));
        } catch {
            res.writeHead(404).end();
        }
    });
    return new Promise((resolve) => state.server.listen(MEDIA_PORT, '127.0.0.1', () => resolve(state)));
}

function ask(parts, extra = {}) {
    return {
        model: 'test-gemma3',
        max_tokens: 3,
        temperature: 0,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe this.' }, ...parts] }],
        ...extra,
    };
}

const image = (name, type) => ({ type: 'image_url', image_url: { url: dataUri(name, type) } });

const enabled = serverBinary() && FIXTURES && GEMMA3 && VISION_MMPROJ && AUDIO_MMPROJ;
const suite = enabled ? describe : (title, fn) => describe(title, { skip: 'multimodal env unset' }, fn);

suite('multimodal: vision projector', () => {
    let media;
    before(async () => { media = await startMediaServer(); });
    after(() => media.server.close());

    const model = { path: GEMMA3, id: 'test-gemma3' };
    const vision = useServer(model, {
        args: ['--mmproj', VISION_MMPROJ, '--ctx-size', '2048', '--video-fps', '1',
            '--media-allow-hosts', '127.0.0.1', '--media-allowed-ports', `80,443,${MEDIA_PORT}`],
    });

    let textOnly;
    let perImage;
    before(async () => {
        const r = await vision.client.chat.completions.create(ask([]));
        textOnly = r.usage.prompt_tokens;
    });

    it('takes a PNG by data: URI and counts its tokens in usage', async () => {
        const r = await vision.client.chat.completions.create(ask([image('image.png', 'image/png')]));
        assert.equal(r.choices.length, 1);
        assert.ok(r.usage.completion_tokens > 0);
        // The shared projector makes 256 tokens of any image; gemma3's "<start_of_image>" and
        // "<end_of_image>" markers are plain text to this vocabulary, a few tokens each.
        perImage = r.usage.prompt_tokens - textOnly;
        assert.ok(perImage >= 256 && perImage <= 256 + 24, `an image added ${perImage} tokens`);
    });

    it('streams the same answer and usage', async () => {
        const request = ask([image('image.png', 'image/png')]);
        const whole = await vision.client.chat.completions.create(request);
        const stream = await vision.client.chat.completions.create(
            { ...request, stream: true, stream_options: { include_usage: true } });
        const chunks = await readStream(stream);
        const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
        assert.equal(text, whole.choices[0].message.content);
        assert.deepEqual(chunks.at(-1).usage.prompt_tokens, whole.usage.prompt_tokens);
    });

    for (const [name, type] of [['image.jpg', 'image/jpeg'], ['image.gif', 'image/gif'],
        ['image.bmp', 'image/bmp'], ['image.webp', 'image/webp']]) {
        it(`takes ${name}`, async () => {
            const r = await vision.client.chat.completions.create(ask([image(name, type)]));
            assert.equal(r.usage.prompt_tokens - textOnly, perImage);
        });
    }

    it('fetches an image by URL from an allowed loopback host', async () => {
        const before_hits = media.hits.get('image.jpg') ?? 0;
        const url = `http://127.0.0.1:${MEDIA_PORT}/image.jpg`;
        const r = await vision.client.chat.completions.create(ask([{ type: 'image_url', image_url: { url } }]));
        assert.equal(r.usage.prompt_tokens - textOnly, perImage);
        assert.equal(media.hits.get('image.jpg'), before_hits + 1);
    });

    it('takes image blocks from the Anthropic SDK, by base64 and by URL', async () => {
        const anthropic = new Anthropic({
            baseURL: vision.server.origin, apiKey: 'unused', maxRetries: 0, timeout: 30_000,
        });
        const url = `http://127.0.0.1:${MEDIA_PORT}/image.png`;
        const data = fixture('image.webp').toString('base64');
        const params = (blocks) => ({
            model: 'test-gemma3',
            max_tokens: 3,
            messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe this.' }, ...blocks] }],
        });
        const text = await anthropic.messages.create(params([]));
        const both = await anthropic.messages.create(params([
            { type: 'image', source: { type: 'base64', media_type: 'image/webp', data } },
            { type: 'image', source: { type: 'url', url } },
        ]));
        const prompt = (usage) => usage.input_tokens + usage.cache_read_input_tokens;
        assert.equal(prompt(both.usage) - prompt(text.usage), 2 * perImage);
        const { max_tokens, ...conversation } = params([
            { type: 'image', source: { type: 'url', url } }]);
        assert.equal(max_tokens, 3);
        const counted = await anthropic.messages.countTokens(conversation);
        assert.equal(counted.input_tokens - prompt(text.usage), perImage);
        // A file that does not decode is refused in Anthropic's shape, naming the block.
        const truncated = fixture('truncated.png').toString('base64');
        const err = await anthropic.messages.create(params([
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: truncated } },
        ])).then(() => assert.fail('a truncated PNG was accepted'), (e) => e);
        assert.equal(err.status, 400);
        assert.equal(err.error.type, 'error');
        assert.equal(err.error.error.type, 'invalid_request_error');
        assert.match(err.error.error.message, /messages\[0\]\.content\[1\]/);
    });

    it('samples a video by URL into timestamped frames', async () => {
        const url = `http://127.0.0.1:${MEDIA_PORT}/video.mp4`;
        const r = await vision.client.chat.completions.create(ask([{ type: 'video_url', video_url: { url } }]));
        const added = r.usage.prompt_tokens - textOnly;
        // 3 s sampled at one frame a second: frames at 0, 1 and 2 s, each an image's tokens
        // after a few for its "[1.0s] " label.
        assert.ok(added > 3 * perImage && added <= 3 * (perImage + 8),
            `${added} tokens for 3 frames of ${perImage}`);
    });

    it('streams a video request', async () => {
        const url = `http://127.0.0.1:${MEDIA_PORT}/video.mp4`;
        const stream = await vision.client.chat.completions.create({
            ...ask([{ type: 'video', video: url }]), stream: true, stream_options: { include_usage: true },
        });
        const chunks = await readStream(stream);
        assert.ok(chunks.at(-1).usage.prompt_tokens > textOnly + 3 * perImage);
    });

    const bad = [
        ['a truncated PNG', image('truncated.png', 'image/png'), /image/],
        ['a decompression bomb', image('bomb.png', 'image/png'), /pixels/],
        ['a GIF bomb', image('bomb.gif', 'image/gif'), /pixels/],
        ['a truncated video', { type: 'video_url', video_url: { url: dataUri('truncated.mp4', 'video/mp4') } }, /video/],
        ['audio to a vision-only projector',
            { type: 'input_audio', input_audio: { data: fixture('audio.wav').toString('base64'), format: 'wav' } },
            /audio/],
    ];
    for (const [what, part, message] of bad) {
        it(`refuses ${what} with a 400 naming the part, and keeps serving`, async () => {
            const err = await expectApiError(vision.client.chat.completions.create(ask([part])),
                { status: 400, errorClass: BadRequestError, param: /^messages\[0\]\.content\[1\]/ });
            assert.match(err.error.message, message);
            await assertServing(vision);
        });
    }

    it('refuses a bad file before the first SSE byte', async () => {
        const res = await fetch(`${vision.server.origin}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...ask([image('bomb.png', 'image/png')]), stream: true }),
        });
        assert.equal(res.status, 400);
        assert.match(res.headers.get('content-type'), /application\/json/);
        const body = await res.json();
        assert.match(body.error.message, /pixels/);
    });
});

suite('multimodal: audio projector', () => {
    const model = { path: GEMMA3, id: 'test-gemma3' };
    const audio = useServer(model, { args: ['--mmproj', AUDIO_MMPROJ, '--ctx-size', '1024'] });

    const inputAudio = (name, format) =>
        ({ type: 'input_audio', input_audio: { data: fixture(name).toString('base64'), format } });

    let textOnly;
    before(async () => {
        textOnly = (await audio.client.chat.completions.create(ask([]))).usage.prompt_tokens;
    });

    for (const [name, format] of [['audio.wav', 'wav'], ['audio.mp3', 'mp3'], ['audio.flac', 'flac']]) {
        it(`takes ${name} by input_audio, streamed and not`, async () => {
            const r = await audio.client.chat.completions.create(ask([inputAudio(name, format)]));
            // The generated projector makes 75 tokens of up to 30 s of audio; the part's
            // separating newline adds a token or two.
            const added = r.usage.prompt_tokens - textOnly;
            assert.ok(added >= 75 && added <= 75 + 3, `audio added ${added} tokens`);
            const chunks = await readStream(await audio.client.chat.completions.create({
                ...ask([inputAudio(name, format)]), stream: true, stream_options: { include_usage: true },
            }));
            assert.equal(chunks.at(-1).usage.prompt_tokens, r.usage.prompt_tokens);
        });
    }

    it('refuses an image with a 400 naming the modality', async () => {
        const err = await expectApiError(audio.client.chat.completions.create(ask([image('image.png', 'image/png')])),
            { status: 400, errorClass: BadRequestError, param: 'messages[0].content[1].image_url.url' });
        assert.match(err.error.message, /image/);
    });

    it('refuses audio whose bytes are not what they claim, and audio over the limit', async () => {
        await expectApiError(audio.client.chat.completions.create(ask([inputAudio('mismatched.mp3', 'mp3')])),
            { status: 400, errorClass: BadRequestError });
        const err = await expectApiError(audio.client.chat.completions.create(ask([inputAudio('long.wav', 'wav')])),
            { status: 400, errorClass: BadRequestError });
        assert.match(err.error.message, /seconds/);
        await assertServing(audio);
    });
});
