// Where colour naming fails (docs/BASE.md): a base model's greedy colorqa answers on the 256 held-out
// samples, grouped by how many palette colours the image shows (pixels of each exact palette
// colour, at least 6); a wrong answer is either another object's colour or one not in the image.
//   node tools/colorqa-lookup.mjs <model dir>   (after make build)
import { loadModel } from '../dist/src/model/index.js';
import { respond } from '../dist/src/eval/evaluate.js';
import { evalSamples } from '../dist/src/train/data.js';
import { COLORS } from '../dist/src/tasks/palette.js';
const { model } = await loadModel(process.argv[2]);
const samples = evalSamples('colorqa', 256);
const resp = respond(model, samples, {
  template: 'compact',
  maxNewTokens: 64,
  referenceSize: 840,
  noThink: false,
});
const present = (img) => {
  const seen = {};
  const d = img.data,
    ch = d.length / (img.width * img.height);
  for (let p = 0; p < img.width * img.height; p++)
    for (const [n, c] of Object.entries(COLORS))
      if (d[p * ch] === c[0] && d[p * ch + 1] === c[1] && d[p * ch + 2] === c[2])
        seen[n] = (seen[n] ?? 0) + 1;
  return Object.keys(seen).filter((n) => seen[n] >= 6);
};
const by = {};
samples.forEach((s, i) => {
  const ans = /<answer>(.*?)<\/answer>/.exec(resp[i])?.[1] ?? '?';
  const cols = present(s.image);
  const k = cols.length;
  by[k] ??= { n: 0, right: 0, otherPresent: 0, absent: 0 };
  const b = by[k];
  b.n++;
  if (ans === s.solution) b.right++;
  else if (cols.includes(ans)) b.otherPresent++;
  else b.absent++;
});
console.log(JSON.stringify(by));
