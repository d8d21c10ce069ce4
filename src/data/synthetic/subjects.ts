import { css, EYE_CAT, EYE_HUMAN, f, FUR, HAIR, hex, luma, mix, Pen, Rgb, shade, SKIN } from './pen.js';

/**
 * One drawn subject in its own coordinates (a head is about 80 units wide, centred on 0,0), with the extent the
 * scene needs to scale and place it.
 */
export interface Subject {
  svg: string;
  top: number;
  bottom: number;
  halfWidth: number;
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [20, 18, 16];

/** Outline colour that stays visible on a fill of any brightness. */
function outline(c: Rgb): string {
  return css(luma(c) < 70 ? mix(c, WHITE, 0.3) : shade(c, 0.55));
}

/** Feature x under a slight head turn: features move toward one side and closer together. */
function turner(yaw: number): (x: number) => number {
  return (x) => x * (1 - Math.abs(yaw) * 0.45) + yaw * 16;
}

/** A cat: pointed triangular ears, almond eyes with slit pupils, small triangular nose, whiskers. */
export function drawCat(p: Pen): Subject {
  const fur = p.jitter(p.pick(FUR));
  const line = outline(fur);
  const sw = f(p.uni(0.8, 2));
  const fx = turner(p.uni(-0.25, 0.25));
  const rx = p.uni(38, 45);
  const ry = p.uni(31, 37);
  let s = '';
  const body = p.chance(0.45);
  if (body) {
    const bx = p.uni(-14, 14);
    const side = p.sign();
    s += `<path d="M${f(bx + side * 25)} 100 C${f(bx + side * 75)} 105 ${f(bx + side * 70)} 50 ${f(bx + side * p.uni(50, 80))} ${f(p.uni(25, 45))}" stroke="${css(fur)}" stroke-width="${f(p.uni(8, 11))}" fill="none" stroke-linecap="round"/>`;
    s += `<ellipse cx="${f(bx)}" cy="70" rx="${f(p.uni(32, 42))}" ry="${f(p.uni(36, 44))}" fill="${css(fur)}" stroke="${line}" stroke-width="${sw}"/>`;
    for (const k of [-1, 1]) {
      s += `<ellipse cx="${f(bx + k * 13)}" cy="110" rx="9" ry="6" fill="${css(p.chance(0.4) ? mix(fur, WHITE, 0.6) : fur)}" stroke="${line}" stroke-width="${sw}"/>`;
    }
  }
  const earH = p.uni(54, 70);
  const spread = p.uni(-2, 8);
  const innerCol = p.chance(0.6) ? hex('#e9a0a6') : shade(fur, 0.75);
  for (const side of [-1, 1]) {
    const tilt = p.uni(-5, 5);
    const b1 = [side * rx * 0.95, -ry * 0.3];
    const b2 = [side * rx * 0.12, -ry * 0.93];
    const apex = [side * (rx * 0.72 + spread) + tilt, -earH];
    s += `<path d="M${f(b1[0])} ${f(b1[1])}L${f(apex[0])} ${f(apex[1])}L${f(b2[0])} ${f(b2[1])}Z" fill="${css(fur)}" stroke="${line}" stroke-width="${sw}" stroke-linejoin="round"/>`;
    const cxn = (b1[0] + b2[0] + apex[0]) / 3;
    const cyn = (b1[1] + b2[1] + apex[1]) / 3 + 4;
    const k = 0.55;
    const pts = [b1, apex, b2].map(([x, y]) => `${f(cxn + (x - cxn) * k)} ${f(cyn + (y - cyn) * k)}`);
    s += `<path d="M${pts[0]}L${pts[1]}L${pts[2]}Z" fill="${css(innerCol)}"/>`;
  }
  s += `<ellipse cx="0" cy="0" rx="${f(rx)}" ry="${f(ry)}" fill="${css(fur)}" stroke="${line}" stroke-width="${sw}"/>`;
  const marking = p.pick(['none', 'tabby', 'tabby', 'bib', 'patch']);
  const dark = css(luma(fur) < 60 ? mix(fur, WHITE, 0.25) : shade(fur, 0.55));
  if (marking === 'tabby') {
    for (const x of [-9, 0, 9]) {
      s += `<path d="M${f(fx(x))} ${f(-ry + 2)}L${f(fx(x * 0.8))} ${f(-ry + p.uni(11, 16))}" stroke="${dark}" stroke-width="3" stroke-linecap="round"/>`;
    }
    for (const side of [-1, 1]) {
      for (const y of [2, 9]) {
        s += `<path d="M${f(side * (rx - 1))} ${y}L${f(side * (rx - 11))} ${y + 2}" stroke="${dark}" stroke-width="2.5" stroke-linecap="round"/>`;
      }
    }
  } else if (marking === 'bib') {
    s += `<path d="M${f(fx(-16))} ${f(ry * 0.9)}Q${f(fx(-14))} 4 ${f(fx(0))} 0Q${f(fx(14))} 4 ${f(fx(16))} ${f(ry * 0.9)}Z" fill="${css(mix(fur, WHITE, 0.85))}"/>`;
  } else if (marking === 'patch') {
    const other = p.jitter(p.pick(FUR));
    s += `<ellipse cx="${f(fx(p.sign() * 15))}" cy="-13" rx="14" ry="13" fill="${css(other)}"/>`;
  }
  const pad = css(mix(fur, WHITE, p.uni(0.15, 0.6)));
  for (const side of [-1, 1]) s += `<circle cx="${f(fx(side * 6))}" cy="14" r="7" fill="${pad}"/>`;
  const eye = css(p.jitter(p.pick(EYE_CAT), 12));
  const ew = p.uni(7.5, 10);
  const eh = p.uni(4.5, 8);
  const slit = p.uni(1, 3.5);
  const eyeTilt = p.uni(8, 20);
  for (const side of [-1, 1]) {
    s += `<g transform="translate(${f(fx(side * 15))} -4) rotate(${f(-side * eyeTilt)})">`;
    s += `<path d="M${f(-ew)} 0Q0 ${f(-eh * 1.3)} ${f(ew)} 0Q0 ${f(eh * 1.3)} ${f(-ew)} 0Z" fill="${eye}" stroke="#151210" stroke-width="1.2"/>`;
    s += `<ellipse cx="0" cy="0" rx="${f(slit)}" ry="${f(eh * 0.85)}" fill="#100e0c"/>`;
    s += `<circle cx="${f(ew * 0.3)}" cy="${f(-eh * 0.35)}" r="1.2" fill="#fff"/></g>`;
  }
  const nose = p.chance(0.6) ? '#e0808f' : css(shade(fur, 0.4));
  s += `<path d="M${f(fx(-5))} 8.5L${f(fx(5))} 8.5L${f(fx(0))} 14Z" fill="${nose}" stroke-linejoin="round"/>`;
  s += `<path d="M${f(fx(0))} 14V17M${f(fx(-7))} 20Q${f(fx(-3))} 21 ${f(fx(0))} 17Q${f(fx(3))} 21 ${f(fx(7))} 20" stroke="${line}" stroke-width="1.3" fill="none"/>`;
  const whisker = luma(fur) < 120 ? '#eeeeee' : '#2a2622';
  let w = '';
  for (const side of [-1, 1]) {
    for (let k = 0; k < 3; k++) {
      const len = p.uni(44, 58);
      w += `M${f(fx(side * 9))} ${f(14 + k * 2)}Q${f(side * 30)} ${f(9 + k * 5)} ${f(side * len)} ${f(5 + k * 9 + p.uni(-2, 2))}`;
    }
  }
  s += `<path d="${w}" stroke="${whisker}" stroke-width="${f(p.uni(0.8, 1.4))}" fill="none"/>`;
  return { svg: s, top: -earH, bottom: body ? 118 : ry + 8, halfWidth: 58 };
}

/** A dog: floppy or rounded ears, a long light muzzle with a big dark nose, round dark eyes, maybe a tongue. */
export function drawDog(p: Pen): Subject {
  const fur = p.jitter(p.pick(FUR));
  const line = outline(fur);
  const sw = f(p.uni(0.8, 2));
  const fx = turner(p.uni(-0.25, 0.25));
  const rx = p.uni(31, 37);
  const ry = p.uni(34, 40);
  const snout = p.uni(0, 1);
  const earCol = p.chance(0.5) ? shade(fur, p.uni(0.55, 0.85)) : p.chance(0.5) ? fur : p.jitter(p.pick(FUR));
  let s = '';
  const body = p.chance(0.45);
  if (body) {
    const bx = p.uni(-10, 10);
    const side = p.sign();
    s += `<path d="M${f(bx + side * 35)} 75Q${f(bx + side * 62)} ${f(p.uni(40, 70))} ${f(bx + side * p.uni(60, 75))} ${f(p.uni(30, 50))}" stroke="${css(fur)}" stroke-width="${f(p.uni(7, 11))}" fill="none" stroke-linecap="round"/>`;
    s += `<ellipse cx="${f(bx)}" cy="72" rx="${f(p.uni(38, 48))}" ry="${f(p.uni(32, 38))}" fill="${css(fur)}" stroke="${line}" stroke-width="${sw}"/>`;
    for (const k of [-1, 1]) {
      s += `<rect x="${f(bx + k * 17 - 7)}" y="88" width="14" height="30" rx="6" fill="${css(fur)}" stroke="${line}" stroke-width="${sw}"/>`;
    }
    if (p.chance(0.5)) {
      s += `<path d="M${f(-rx * 0.75)} ${f(ry * 0.7)}Q0 ${f(ry + 10)} ${f(rx * 0.75)} ${f(ry * 0.7)}" stroke="${css(p.anyColour())}" stroke-width="6" fill="none"/>`;
    }
  }
  const earType = p.pick(['floppy', 'floppy', 'floppy', 'floppy', 'floppy', 'round', 'folded', 'folded']);
  const earRx = p.uni(11, 15);
  const earRy = p.uni(22, 32);
  const earAngle = p.uni(12, 35);
  const ears = (front: boolean) => {
    let e = '';
    for (const side of [-1, 1]) {
      if (earType === 'floppy' && front) {
        e += `<g transform="translate(${f(side * rx * 0.86)} ${f(-ry * 0.55)}) rotate(${f(side * earAngle)})"><ellipse cx="0" cy="${f(earRy * 0.75)}" rx="${f(earRx)}" ry="${f(earRy)}" fill="${css(earCol)}" stroke="${line}" stroke-width="${sw}"/></g>`;
      } else if (earType === 'round' && !front) {
        e += `<circle cx="${f(side * rx * 0.72)}" cy="${f(-ry * 0.78)}" r="${f(earRx * 0.85)}" fill="${css(earCol)}" stroke="${line}" stroke-width="${sw}"/>`;
      } else if (earType === 'folded' && front) {
        const x0 = side * rx * 0.25;
        const x1 = side * rx * 1.05;
        e += `<path d="M${f(x0)} ${f(-ry * 0.95)}Q${f(side * rx * 1.25)} ${f(-ry * 1.2)} ${f(x1)} ${f(-ry * 0.15)}Q${f(side * rx * 0.75)} ${f(-ry * 0.35)} ${f(side * rx * 0.4)} ${f(-ry * 0.55)}Z" fill="${css(earCol)}" stroke="${line}" stroke-width="${sw}" stroke-linejoin="round"/>`;
      }
    }
    return e;
  };
  s += ears(false);
  s += `<ellipse cx="0" cy="0" rx="${f(rx)}" ry="${f(ry)}" fill="${css(fur)}" stroke="${line}" stroke-width="${sw}"/>`;
  const marking = p.pick(['none', 'none', 'blaze', 'eyepatch', 'brows']);
  if (marking === 'blaze') {
    s += `<ellipse cx="${f(fx(0))}" cy="${f(-ry * 0.35)}" rx="5" ry="${f(ry * 0.5)}" fill="${css(mix(fur, WHITE, 0.8))}"/>`;
  } else if (marking === 'eyepatch') {
    s += `<ellipse cx="${f(fx(p.sign() * 13))}" cy="-9" rx="9" ry="8.5" fill="${css(mix(fur, p.pick(FUR), 0.7))}"/>`;
  }
  const my = 12 + 7 * snout;
  const mry = 11 + 7 * snout;
  const muzzle = p.chance(0.6) ? mix(fur, WHITE, p.uni(0.3, 0.7)) : shade(fur, p.uni(0.85, 1.1));
  s += `<ellipse cx="${f(fx(0))}" cy="${f(my)}" rx="${f(p.uni(16, 21))}" ry="${f(mry)}" fill="${css(muzzle)}" stroke="${line}" stroke-width="${sw}"/>`;
  s += ears(true);
  const ny = my - mry * 0.45;
  s += `<ellipse cx="${f(fx(0))}" cy="${f(ny)}" rx="${f(p.uni(7, 10))}" ry="${f(p.uni(5, 6.5))}" fill="#1b1515"/>`;
  s += `<ellipse cx="${f(fx(-2))}" cy="${f(ny - 2)}" rx="2.5" ry="1.3" fill="#8a8080"/>`;
  const my1 = ny + 5;
  const my2 = my + mry * 0.45;
  if (p.chance(0.5)) {
    s += `<path d="M${f(fx(-5))} ${f(my2 - 1)}V${f(my2 + 8)}Q${f(fx(0))} ${f(my2 + 15)} ${f(fx(5))} ${f(my2 + 8)}V${f(my2 - 1)}Z" fill="#e36f84" stroke="#a84a5a" stroke-width="1"/>`;
    s += `<path d="M${f(fx(0))} ${f(my2)}V${f(my2 + 7)}" stroke="#a84a5a" stroke-width="1"/>`;
  }
  s += `<path d="M${f(fx(0))} ${f(my1)}V${f(my2)}M${f(fx(-11))} ${f(my2 - 3)}Q${f(fx(-5))} ${f(my2 + 3)} ${f(fx(0))} ${f(my2)}Q${f(fx(5))} ${f(my2 + 3)} ${f(fx(11))} ${f(my2 - 3)}" stroke="#2a2020" stroke-width="1.5" fill="none"/>`;
  const er = p.uni(4.2, 6.2);
  const brow = css(marking === 'brows' ? hex('#c98a4a') : shade(fur, 0.7));
  for (const side of [-1, 1]) {
    const ex = fx(side * 13);
    if (marking === 'brows' || p.chance(0.3)) s += `<ellipse cx="${f(ex)}" cy="-19" rx="5" ry="3" fill="${brow}"/>`;
    s += `<circle cx="${f(ex)}" cy="-9" r="${f(er)}" fill="#2b1a10" stroke="#0e0a08" stroke-width="1"/>`;
    s += `<circle cx="${f(ex + er * 0.35)}" cy="${f(-9 - er * 0.35)}" r="1.4" fill="#fff"/>`;
  }
  const top = earType === 'round' ? -ry - earRx * 0.6 : earType === 'folded' ? -ry * 1.1 : -ry;
  return { svg: s, top, bottom: body ? 120 : Math.max(ry, my + mry) + 6, halfWidth: 52 };
}

/** A selfie: a skin-toned oval face with hair, eyebrows, round-pupil eyes, a nose line and a mouth. */
export function drawFace(p: Pen): Subject {
  const skin = p.jitter(p.pick(SKIN), 10);
  const hair = p.jitter(p.pick(HAIR), 12);
  const edge = css(shade(skin, 0.78));
  const fx = turner(p.uni(-0.25, 0.25));
  const rx = p.uni(27, 33);
  const ry = p.uni(37, 43);
  let s = '';
  const style = p.pick(['short', 'short', 'long', 'long', 'curly', 'bun', 'bald', 'hat']);
  if (p.chance(0.75)) {
    const shirt = css(p.anyColour());
    s += `<path d="M-75 150Q-72 ${f(ry + 24)} -24 ${f(ry + 16)}L24 ${f(ry + 16)}Q72 ${f(ry + 24)} 75 150Z" fill="${shirt}"/>`;
    s += `<rect x="-11" y="${f(ry * 0.6)}" width="22" height="${f(ry * 0.4 + 18)}" fill="${css(shade(skin, 0.88))}"/>`;
  }
  if (style === 'long') {
    s += `<path d="M${f(-rx - 7)} -8Q${f(-rx - 12)} ${f(ry + 28)} ${f(-rx + 4)} ${f(ry + 32)}L${f(rx - 4)} ${f(ry + 32)}Q${f(rx + 12)} ${f(ry + 28)} ${f(rx + 7)} -8Z" fill="${css(hair)}"/>`;
  }
  for (const side of [-1, 1]) {
    s += `<ellipse cx="${f(side * rx)}" cy="3" rx="5" ry="9" fill="${css(skin)}" stroke="${edge}" stroke-width="1"/>`;
  }
  s += `<ellipse cx="0" cy="0" rx="${f(rx)}" ry="${f(ry)}" fill="${css(skin)}" stroke="${edge}" stroke-width="1"/>`;
  const h = css(hair);
  let top = -ry;
  if (style === 'short' || style === 'long' || style === 'bun') {
    const part = p.uni(-0.6, 0.6);
    s += `<path d="M${f(-rx - 2)} -2C${f(-rx - 4)} ${f(-ry - 16)} ${f(rx + 4)} ${f(-ry - 16)} ${f(rx + 2)} -2C${f(rx * 0.9)} ${f(-ry * 0.5)} ${f(rx * part)} ${f(-ry * 0.72)} ${f(-rx - 2)} -2Z" fill="${h}"/>`;
    top = -ry - 10;
    if (style === 'bun') {
      s += `<circle cx="0" cy="${f(-ry - 9)}" r="${f(p.uni(10, 14))}" fill="${h}"/>`;
      top = -ry - 22;
    }
  } else if (style === 'curly') {
    for (let a = 180; a <= 360; a += 20) {
      const t = (a * Math.PI) / 180;
      s += `<circle cx="${f((rx + 1) * Math.cos(t))}" cy="${f((ry * 0.85) * Math.sin(t) - 4)}" r="${f(p.uni(8, 11))}" fill="${h}"/>`;
    }
    top = -ry - 14;
  } else if (style === 'hat') {
    const hat = css(p.anyColour());
    s += `<path d="M${f(-rx - 3)} ${f(-ry * 0.35)}C${f(-rx - 3)} ${f(-ry - 20)} ${f(rx + 3)} ${f(-ry - 20)} ${f(rx + 3)} ${f(-ry * 0.35)}Z" fill="${hat}"/>`;
    s += `<path d="M${f(-rx - 3)} ${f(-ry * 0.35)}L${f(rx + 3)} ${f(-ry * 0.35)}L${f(rx + 22)} ${f(-ry * 0.25)}" stroke="${hat}" stroke-width="5" fill="none" stroke-linecap="round"/>`;
    top = -ry - 14;
  }
  if (p.chance(0.3)) {
    for (const side of [-1, 1]) s += `<ellipse cx="${f(fx(side * 17))}" cy="10" rx="7" ry="4.5" fill="#e07a7a" fill-opacity="0.25"/>`;
  }
  const brow = css(shade(hair, 0.8));
  const bw = f(p.uni(2, 3.6));
  const browLift = p.uni(-2, 2);
  const iris = css(p.jitter(p.pick(EYE_HUMAN), 10));
  const eh = p.uni(2.8, 4.2);
  for (const side of [-1, 1]) {
    const ex = fx(side * 12);
    s += `<path d="M${f(fx(side * 20))} ${f(-13 + browLift)}Q${f(fx(side * 12))} ${f(-19 + browLift)} ${f(fx(side * 5))} -14" stroke="${brow}" stroke-width="${bw}" fill="none" stroke-linecap="round"/>`;
    s += `<ellipse cx="${f(ex)}" cy="-6" rx="6.5" ry="${f(eh)}" fill="#f4f1ec" stroke="${css(shade(skin, 0.5))}" stroke-width="1"/>`;
    s += `<circle cx="${f(ex + fx(0) * 0.15)}" cy="-6" r="${f(Math.min(3.4, eh))}" fill="${iris}"/>`;
    s += `<circle cx="${f(ex + fx(0) * 0.15)}" cy="-6" r="1.5" fill="#111"/>`;
  }
  s += `<path d="M${f(fx(-1))} -3Q${f(fx(-4))} 8 ${f(fx(-5))} 10Q${f(fx(0))} 13 ${f(fx(5))} 10" stroke="${css(shade(skin, 0.68))}" stroke-width="1.5" fill="none" stroke-linecap="round"/>`;
  const lips = css(mix(skin, hex('#b0404c'), p.uni(0.35, 0.7)));
  const my = p.uni(19, 23);
  if (p.chance(0.35)) {
    s += `<path d="M${f(fx(-11))} ${f(my)}Q${f(fx(0))} ${f(my + 13)} ${f(fx(11))} ${f(my)}Z" fill="#6e2430" stroke="${lips}" stroke-width="1.5"/>`;
    s += `<path d="M${f(fx(-9))} ${f(my + 0.8)}L${f(fx(9))} ${f(my + 0.8)}L${f(fx(7))} ${f(my + 3.5)}L${f(fx(-7))} ${f(my + 3.5)}Z" fill="#f3f0ea"/>`;
  } else {
    const smile = p.uni(-1, 5);
    s += `<path d="M${f(fx(-10))} ${f(my)}Q${f(fx(0))} ${f(my + smile + 4)} ${f(fx(10))} ${f(my)}Q${f(fx(0))} ${f(my + 1)} ${f(fx(-10))} ${f(my)}Z" fill="${lips}" stroke="${lips}" stroke-width="1.2"/>`;
  }
  if (p.chance(0.15)) {
    s += `<path d="M${f(-rx + 1)} 6Q${f(-rx + 5)} ${f(ry + 10)} 0 ${f(ry + 10)}Q${f(rx - 5)} ${f(ry + 10)} ${f(rx - 1)} 6Q${f(rx - 8)} ${f(my + 12)} 0 ${f(my + 10)}Q${f(-rx + 8)} ${f(my + 12)} ${f(-rx + 1)} 6Z" fill="${h}"/>`;
    s += `<path d="M${f(fx(-11))} ${f(my - 1)}Q${f(fx(0))} ${f(my - 7)} ${f(fx(11))} ${f(my - 1)}" stroke="${h}" stroke-width="3" fill="none"/>`;
  }
  if (p.chance(0.25)) {
    const frame = css(p.chance(0.5) ? BLACK : p.anyColour());
    s += `<g fill="none" stroke="${frame}" stroke-width="2"><circle cx="${f(fx(-12))}" cy="-6" r="9"/><circle cx="${f(fx(12))}" cy="-6" r="9"/><path d="M${f(fx(-3))} -7Q${f(fx(0))} -9 ${f(fx(3))} -7"/></g>`;
  }
  return { svg: s, top, bottom: ry + 22, halfWidth: 48 };
}

type MiscKind = 'house' | 'car' | 'flower' | 'tree' | 'pine' | 'mountains' | 'clock' | 'umbrella' | 'mug' | 'shapes' | 'sun';
export const MISC_KINDS: readonly MiscKind[] = ['house', 'car', 'flower', 'tree', 'pine', 'mountains', 'clock', 'umbrella', 'mug', 'shapes', 'sun'];

/** A thing that is no animal and no face: houses, cars, flowers, trees, clocks, geometric clutter ... */
export function drawMisc(p: Pen, kind: MiscKind = p.pick(MISC_KINDS)): Subject {
  const c = () => css(p.anyColour());
  let s = '';
  switch (kind) {
    case 'house': {
      const wall = c();
      s += `<rect x="-42" y="-12" width="84" height="62" fill="${wall}" stroke="#3a3330" stroke-width="1.2"/>`;
      if (p.chance(0.5)) s += `<rect x="18" y="-50" width="10" height="26" fill="${c()}"/>`;
      s += `<path d="M-52 -10L0 ${f(-p.uni(45, 62))}L52 -10Z" fill="${c()}" stroke="#3a3330" stroke-width="1.2"/>`;
      s += `<rect x="-9" y="18" width="18" height="32" fill="${c()}"/>`;
      const win = css(p.jitter(hex('#bcd8ec'), 25));
      for (const x of [-34, 18]) {
        s += `<rect x="${x}" y="2" width="16" height="14" fill="${win}" stroke="#f4f4f4" stroke-width="2"/><path d="M${x + 8} 2V16M${x} 9H${x + 16}" stroke="#f4f4f4" stroke-width="1.5"/>`;
      }
      return { svg: s, top: -62, bottom: 50, halfWidth: 52 };
    }
    case 'car': {
      const body = c();
      s += `<path d="M-32 -6L-20 -30L22 -30L36 -6Z" fill="${body}" stroke="#222" stroke-width="1"/>`;
      s += `<path d="M-26 -8L-18 -26L-2 -26L-2 -8ZM2 -8L2 -26L20 -26L30 -8Z" fill="${css(p.jitter(hex('#a9c6dd'), 20))}"/>`;
      s += `<rect x="-58" y="-8" width="116" height="28" rx="9" fill="${body}" stroke="#222" stroke-width="1"/>`;
      s += `<rect x="48" y="-2" width="8" height="6" rx="2" fill="#f6e9a6"/>`;
      for (const x of [-34, 34]) s += `<circle cx="${x}" cy="20" r="12" fill="#1c1c1c"/><circle cx="${x}" cy="20" r="5" fill="#b8b8b8"/>`;
      return { svg: s, top: -30, bottom: 32, halfWidth: 58 };
    }
    case 'flower': {
      const petal = c();
      const n = p.int(5, 10);
      const len = p.uni(14, 22);
      s += `<path d="M0 0Q${f(p.uni(-15, 15))} 40 0 75" stroke="#3f7a2f" stroke-width="4" fill="none"/>`;
      s += `<ellipse cx="12" cy="45" rx="13" ry="5" transform="rotate(-30 12 45)" fill="#4f9a3a"/>`;
      for (let i = 0; i < n; i++) {
        s += `<ellipse cx="0" cy="${f(-len)}" rx="${f(len * 0.45)}" ry="${f(len)}" transform="rotate(${f((360 * i) / n)})" fill="${petal}" stroke="${css(shade(p.anyColour(), 0.6))}" stroke-width="0.6"/>`;
      }
      s += `<circle r="${f(p.uni(7, 11))}" fill="${css(p.pick([hex('#e2b21c'), hex('#5a3a1a'), hex('#f0d060')]))}"/>`;
      return { svg: s, top: -2 * len, bottom: 75, halfWidth: 2 * len };
    }
    case 'tree': {
      const green = p.chance(0.75) ? p.jitter(hex('#3f8a36'), 30) : p.jitter(hex('#d07a2a'), 30);
      s += `<rect x="-7" y="0" width="14" height="60" fill="${css(p.jitter(hex('#6a4a2a')))}"/>`;
      for (let i = 0; i < 5; i++) {
        s += `<circle cx="${f(p.uni(-24, 24))}" cy="${f(p.uni(-30, 0))}" r="${f(p.uni(18, 28))}" fill="${css(p.jitter(green, 15))}"/>`;
      }
      return { svg: s, top: -58, bottom: 60, halfWidth: 50 };
    }
    case 'pine': {
      const green = p.jitter(hex('#2f6a3a'), 25);
      s += `<rect x="-6" y="30" width="12" height="30" fill="#5a3d22"/>`;
      for (let i = 0; i < 3; i++) {
        const y = -50 + i * 25;
        const w = 22 + i * 12;
        s += `<path d="M0 ${y - 10}L${w} ${y + 35}L${-w} ${y + 35}Z" fill="${css(p.jitter(green, 10))}"/>`;
      }
      return { svg: s, top: -60, bottom: 60, halfWidth: 46 };
    }
    case 'mountains': {
      for (let i = 0; i < 3; i++) {
        const x = -45 + i * 42 + p.uni(-8, 8);
        const h = p.uni(45, 80);
        const rock = p.jitter(hex('#6d7a8c'), 30);
        s += `<path d="M${f(x - 45)} 40L${f(x)} ${f(40 - h)}L${f(x + 45)} 40Z" fill="${css(rock)}"/>`;
        s += `<path d="M${f(x - 12)} ${f(40 - h + 12)}L${f(x)} ${f(40 - h)}L${f(x + 12)} ${f(40 - h + 12)}Z" fill="#f4f6f8"/>`;
      }
      return { svg: s, top: -42, bottom: 40, halfWidth: 90 };
    }
    case 'clock': {
      s += `<circle r="42" fill="${c()}"/><circle r="35" fill="#f6f3ea" stroke="#222" stroke-width="1.5"/>`;
      let ticks = '';
      for (let i = 0; i < 12; i++) {
        const t = (i * Math.PI) / 6;
        ticks += `M${f(30 * Math.cos(t))} ${f(30 * Math.sin(t))}L${f(34 * Math.cos(t))} ${f(34 * Math.sin(t))}`;
      }
      s += `<path d="${ticks}" stroke="#222" stroke-width="2"/>`;
      s += `<path d="M0 0L0 -26M0 0L${f(p.uni(-18, 18))} ${f(p.uni(-18, 18))}" stroke="#111" stroke-width="3" stroke-linecap="round"/>`;
      return { svg: s, top: -42, bottom: 42, halfWidth: 42 };
    }
    case 'umbrella': {
      const col = c();
      s += `<path d="M0 -30V35Q0 45 -9 42" stroke="#333" stroke-width="3" fill="none"/>`;
      s += `<path d="M-55 0A55 42 0 0 1 55 0Q46 -8 37 0Q28 -8 18 0Q9 -8 0 0Q-9 -8 -18 0Q-28 -8 -37 0Q-46 -8 -55 0Z" fill="${col}" stroke="#333" stroke-width="1"/>`;
      return { svg: s, top: -42, bottom: 45, halfWidth: 55 };
    }
    case 'mug': {
      const col = c();
      s += `<circle cx="30" cy="5" r="14" fill="none" stroke="${col}" stroke-width="7"/>`;
      s += `<rect x="-30" y="-30" width="60" height="65" rx="6" fill="${col}" stroke="#222" stroke-width="1"/>`;
      s += `<path d="M-10 -38Q-16 -48 -10 -58M5 -38Q-1 -48 5 -58" stroke="#ddd" stroke-width="2.5" fill="none" stroke-opacity="0.8"/>`;
      return { svg: s, top: -58, bottom: 35, halfWidth: 46 };
    }
    case 'sun': {
      const col = css(p.jitter(hex('#f2c230'), 25));
      let rays = '';
      for (let i = 0; i < 12; i++) {
        const t = (i * Math.PI) / 6;
        rays += `M${f(30 * Math.cos(t))} ${f(30 * Math.sin(t))}L${f(48 * Math.cos(t))} ${f(48 * Math.sin(t))}`;
      }
      s += `<path d="${rays}" stroke="${col}" stroke-width="5" stroke-linecap="round"/><circle r="25" fill="${col}"/>`;
      return { svg: s, top: -48, bottom: 48, halfWidth: 48 };
    }
    case 'shapes':
    default: {
      const n = p.int(3, 6);
      for (let i = 0; i < n; i++) s += randomShape(p, p.uni(-35, 35), p.uni(-35, 35), p.uni(12, 30), c());
      return { svg: s, top: -55, bottom: 55, halfWidth: 55 };
    }
  }
}

/** A circle, rectangle, triangle, star, thick line or blob centred on (x, y) with size r. */
export function randomShape(p: Pen, x: number, y: number, r: number, fill: string): string {
  const rot = f(p.uni(0, 360));
  const t = `transform="translate(${f(x)} ${f(y)}) rotate(${rot})"`;
  // fill-opacity / stroke-opacity rather than opacity: same look for one shape, no offscreen layer to composite.
  const alpha = p.chance(0.3) ? f(p.uni(0.35, 0.9)) : '';
  const opacity = alpha ? ` fill-opacity="${alpha}"` : '';
  switch (p.int(0, 5)) {
    case 0:
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" fill="${fill}"${opacity}/>`;
    case 1:
      return `<rect x="${f(-r)}" y="${f(-r * 0.6)}" width="${f(2 * r)}" height="${f(r * p.uni(0.6, 1.4))}" ${t} fill="${fill}"${opacity}/>`;
    case 2:
      return `<path d="M0 ${f(-r)}L${f(r * 0.9)} ${f(r * 0.6)}L${f(-r * 0.9)} ${f(r * 0.6)}Z" ${t} fill="${fill}"${opacity}/>`;
    case 3: {
      let d = '';
      for (let i = 0; i < 10; i++) {
        const a = (i * Math.PI) / 5;
        const rr = i % 2 ? r * 0.45 : r;
        d += `${i ? 'L' : 'M'}${f(rr * Math.sin(a))} ${f(-rr * Math.cos(a))}`;
      }
      return `<path d="${d}Z" ${t} fill="${fill}"${opacity}/>`;
    }
    case 4:
      return `<path d="M${f(-r * 1.5)} 0L${f(r * 1.5)} 0" ${t} stroke="${fill}" stroke-width="${f(r * p.uni(0.15, 0.4))}" stroke-linecap="round"${alpha ? ` stroke-opacity="${alpha}"` : ''}/>`;
    default: {
      const k = p.int(5, 7);
      const pts: [number, number][] = [];
      for (let i = 0; i < k; i++) {
        const a = (i * 2 * Math.PI) / k;
        const rr = r * p.uni(0.6, 1.1);
        pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      let d = '';
      for (let i = 0; i < k; i++) {
        const [ax, ay] = pts[i];
        const [bx, by] = pts[(i + 1) % k];
        const mx = (ax + bx) / 2;
        const my = (ay + by) / 2;
        d += i === 0 ? `M${f((pts[k - 1][0] + ax) / 2)} ${f((pts[k - 1][1] + ay) / 2)}` : '';
        d += `Q${f(ax)} ${f(ay)} ${f(mx)} ${f(my)}`;
      }
      return `<path d="${d}Z" ${t} fill="${fill}"${opacity}/>`;
    }
  }
}
