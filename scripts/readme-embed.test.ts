// The README's "Embedding kindling in a web app" quotes demo/embed/main.ts: the block must be the file, so that what
// readers copy is what `npm run typecheck` compiles (strict) and e2e/demo-embed.spec.ts runs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('README embedding snippet', () => {
  it('is demo/embed/main.ts, character for character', () => {
    const section = read('README.md').split('### Embedding kindling in a web app')[1]?.split('\n### ')[0] ?? '';
    const block = section.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(block, 'README.md: no ```ts block under "Embedding kindling in a web app"').toBeDefined();
    expect(block).toBe(read('demo/embed/main.ts'));
  });
});
