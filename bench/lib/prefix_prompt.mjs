// What bench/prefix_reuse and bench/run share to time a repeated system prompt: the prompt
// itself, and the time to the first token of one streamed answer to it.

// `words` words drawn with a generator seeded by `round`, so each round's system prompt is new
// to the server (1,000 words are about 1,000 tokens on the realistic model's vocabulary).
export function systemPrompt(round, words) {
    const vocabulary = ['cat', 'dog', 'tree', 'sun', 'ball', 'happy', 'little', 'girl', 'boy',
        'park', 'red', 'big', 'friend', 'play', 'jump', 'run', 'home', 'mom', 'toy', 'sky'];
    let x = (round * 2654435761) % 4294967296;
    return `Round ${round}. ` + Array.from({ length: words }, () => {
        x = (x * 1103515245 + 12345) % 2147483648;
        return vocabulary[x % vocabulary.length];
    }).join(' ');
}

// Streams a two-token answer to `system` and `question`; resolves with the time from sending
// the request to the first event that carries text, and the usage's prompt and cached tokens.
// `extra` adds request fields (a logit_bias, say).
export async function firstToken(origin, modelId, system, question, extra = {}) {
    const began = performance.now();
    const res = await fetch(`${origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
            model: modelId, max_tokens: 2, temperature: 0, stream: true,
            stream_options: { include_usage: true }, ...extra,
            messages: [{ role: 'system', content: system }, { role: 'user', content: question }],
        }),
    });
    let text = '';
    let ttft;
    for await (const chunk of res.body) {
        text += Buffer.from(chunk).toString();
        if (ttft === undefined && /"content":"[^"]/.test(text)) {
            ttft = performance.now() - began;
        }
    }
    const usage = JSON.parse(/data: (\{.*"usage":\{.*\})\n/.exec(text)?.[1] ?? '{}').usage;
    return {
        ttft, prompt: usage?.prompt_tokens, cached: usage?.prompt_tokens_details?.cached_tokens,
    };
}
