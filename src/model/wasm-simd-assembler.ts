/*
 * A few lines of WebAssembly assembler: the opcodes the SIMD kernels need (i32 locals and arithmetic, v128 loads,
 * stores and float lanes), and `assemble`, which packs functions of i32 parameters into a module that imports its
 * memory as env.memory and exports every function by name.
 */

const I32 = 0x7f;
const V128 = 0x7b;
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  eqz: [0x45],
  blockLoop: [0x02, 0x40, 0x03, 0x40],
  exitIfZero: (i: number) => [0x20, ...uleb(i), 0x45, 0x0d, 1],
  endBlockLoop: [0x0c, 0, 0x0b, 0x0b],
  load: (offset: number) => [0xfd, 0x00, 2, ...uleb(offset)],
  loadSplat: (offset: number) => [0xfd, 0x09, 2, ...uleb(offset)],
  store: (offset: number) => [0xfd, 0x0b, 2, ...uleb(offset)],
  fadd: [0xfd, 0xe4, 0x01],
  fmul: [0xfd, 0xe6, 0x01],
  fgt: [0xfd, 0x44],
  and: [0xfd, 0x4e],
  andnot: [0xfd, 0x4f],
  bitselect: [0xfd, 0x52],
  negInf: [0xfd, 0x0c, 0, 0, 0x80, 0xff, 0, 0, 0x80, 0xff, 0, 0, 0x80, 0xff, 0, 0, 0x80, 0xff],
  /** local += step (i32) */
  bump: (i: number, step: number) => [0x20, ...uleb(i), 0x41, ...sleb(step), 0x6a, 0x21, ...uleb(i)],
  bumpBy: (i: number, by: number) => [0x20, ...uleb(i), 0x20, ...uleb(by), 0x6a, 0x21, ...uleb(i)],
};

export interface WasmFunction {
  name: string;
  params: number;
  i32Locals: number;
  v128Locals: number;
  body: number[];
}

export function assemble(functions: WasmFunction[]) {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (s: string) => {
    const bytes = Array.from(s, (ch) => ch.charCodeAt(0));
    return [...uleb(bytes.length), ...bytes];
  };
  const arities = [...new Set(functions.map((f) => f.params))];
  const types = arities.flatMap((n) => [0x60, ...uleb(n), ...new Array<number>(n).fill(I32), 0]);
  const code = functions.flatMap((f) => {
    const fn = [2, ...uleb(f.i32Locals), I32, ...uleb(f.v128Locals), V128, ...f.body, 0x0b];
    return [...uleb(fn.length), ...fn];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [...uleb(arities.length), ...types]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]),
    ...section(3, [...uleb(functions.length), ...functions.map((f) => arities.indexOf(f.params))]),
    ...section(7, [...uleb(functions.length), ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)])]),
    ...section(10, [...uleb(functions.length), ...code]),
  ]);
}
