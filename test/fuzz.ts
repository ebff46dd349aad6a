/** Adversarial text shared by the reward and metric fuzz tests: pieces and a mutator. */

/** Fragments that stress the response parser: tags, JSON syntax, extreme numbers, odd unicode. */
export const FUZZ_PIECES = [
  '<think>',
  '</think>',
  '<answer>',
  '</answer>',
  '[',
  ']',
  '{',
  '}',
  '"bbox_2d"',
  '"point_2d"',
  ':',
  ',',
  '1e309',
  'NaN',
  '-0',
  '-1',
  '1.5',
  '99999999999',
  '"',
  '\\',
  '\u0000',
  '\ud800',
  '😀',
  'é',
  '\n',
  ' ',
  'null',
  'true',
  '[[[[[[[[',
  ']]]]]]]]',
];

/**
 * 1-6 random edits of s: insert a piece, delete a run, truncate, insert a random UTF-16 unit, or
 * splice in a random suffix of s. ri(n) draws an integer in [0, n).
 */
export function mutateText(s: string, ri: (n: number) => number): string {
  let out = s;
  for (let e = 1 + ri(6); e > 0; e--) {
    const at = ri(out.length + 1);
    switch (ri(5)) {
      case 0:
        out = out.slice(0, at) + FUZZ_PIECES[ri(FUZZ_PIECES.length)]! + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + ri(5));
        break;
      case 2:
        out = out.slice(0, at); // truncation
        break;
      case 3:
        out = out.slice(0, at) + String.fromCharCode(ri(0x10000)) + out.slice(at);
        break;
      default:
        out = out.slice(0, at) + out.slice(ri(out.length)); // splice in a random suffix
    }
  }
  return out;
}
