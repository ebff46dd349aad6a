/** The command examples of README.md and docs/*.md (```sh blocks), for the tests that check and run them. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const DOC_FILES: readonly string[] = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

export interface Example {
  file: string;
  line: string;
  argv: string[];
  /** what `echo '…' | visurf …` pipes in */
  stdin: string | null;
}

/** The visurf invocations of a Markdown file's sh blocks, continuation lines joined. */
export function examplesOf(file: string): Example[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: Example[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const m = /(?:^|\s|\| )(?:npx visurf|visurf|node dist\/src\/cli\/main\.js)\s+(.*)$/.exec(
        line,
      );
      if (!m || line.startsWith('#')) continue;
      const cmd = m[1]!.split(/\s+(?:\||&&|;|>|2>)\s*/)[0]!; // up to a pipe or redirect
      const argv = [...cmd.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(
        (x) => x[1] ?? x[2] ?? x[3]!,
      );
      const echo = /^echo '(.*)' \| /.exec(line);
      out.push({ file, line, argv, stdin: echo ? `${echo[1]}\n` : null });
    }
  }
  return out;
}
