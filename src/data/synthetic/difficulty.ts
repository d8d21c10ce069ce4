/**
 * How hard a synthetic scene is to read. Only the scene changes with the difficulty: image size, aspect and format
 * are drawn before it and never depend on the group, and subjects keep the same shapes and shared colour palettes
 * at every level, so a model still has to learn ears, snouts and face layout rather than colour.
 *
 * - `easy` (the default): the subject fills most of the centre square that the data layer crops, stands nearly
 *   upright, on plain, gradient or low-contrast textured backgrounds with a little small clutter; rare occluders,
 *   light noise. The project's small CNN learns it in a few epochs at 64, 48 or 32 pixels.
 * - `hard`: the original look: subjects from half to more than the frame, anywhere in it (often cut by the crop),
 *   rotated up to 70 degrees, on high-contrast patterns with up to eight clutter shapes and stray everyday objects,
 *   frequent occluders, heavy noise and blur.
 */
export const SYNTHETIC_DIFFICULTIES = ['easy', 'hard'] as const;
export type SyntheticDifficulty = (typeof SYNTHETIC_DIFFICULTIES)[number];
export const DEFAULT_DIFFICULTY: SyntheticDifficulty = 'easy';

export interface SceneSettings {
  /** Background clutter shapes: count range and size as a share of the shorter side. */
  clutter: [number, number];
  clutterSize: [number, number];
  /** Chance of a stray everyday object behind the subject, in every group. */
  strayObject: number;
  /** How far a textured background's second colour is blended toward the first (0 = full contrast). */
  textureBlend: number;
  /** Background kinds to draw from (repeats weigh a kind). */
  backgrounds: readonly BackgroundKind[];
  /** Chance of a mild rotation, its range, and the range of the other rotations (degrees). */
  mildRotation: number;
  mildRange: number;
  wildRange: number;
  /** Subject size as a share of the shorter side. */
  subjectSize: [number, number];
  /** Subject centre: `centred` keeps it near the middle (inside the centre square), `anywhere` in 30-70% of each side. */
  placement: 'centred' | 'anywhere';
  /** Chance of a second everyday object in misc scenes. */
  secondMisc: number;
  /** Chance of a foreground shape partly covering the subject, and its radius as a share of the subject size. */
  occluder: number;
  occluderSize: [number, number];
  /** Chance of a lighting wash and its strongest opacity. */
  wash: number;
  washOpacity: number;
  /** Chance of a noise-free image, and the noise standard deviation range (0..255 scale). */
  clean: number;
  noise: [number, number];
  /** Chance of a blur. */
  blur: number;
}

export type BackgroundKind = 'linear' | 'radial' | 'stripes' | 'dots' | 'checks' | 'landscape' | 'solid';

export const SCENE_SETTINGS: Record<SyntheticDifficulty, SceneSettings> = {
  easy: {
    clutter: [0, 2],
    clutterSize: [0.03, 0.08],
    strayObject: 0,
    textureBlend: 0.75,
    backgrounds: ['linear', 'linear', 'radial', 'radial', 'landscape', 'solid', 'solid', 'dots'],
    mildRotation: 1,
    mildRange: 12,
    wildRange: 12,
    subjectSize: [0.8, 1],
    placement: 'centred',
    secondMisc: 0.3,
    occluder: 0.05,
    occluderSize: [0.08, 0.12],
    wash: 0.3,
    washOpacity: 0.3,
    clean: 0.5,
    noise: [1, 5],
    blur: 0.05,
  },
  hard: {
    clutter: [0, 8],
    clutterSize: [0.04, 0.18],
    strayObject: 0.3,
    textureBlend: 0,
    backgrounds: ['linear', 'linear', 'radial', 'stripes', 'dots', 'checks', 'landscape', 'solid'],
    mildRotation: 0.8,
    mildRange: 25,
    wildRange: 70,
    subjectSize: [0.55, 1.1],
    placement: 'anywhere',
    secondMisc: 0.4,
    occluder: 0.3,
    occluderSize: [0.12, 0.25],
    wash: 0.4,
    washOpacity: 0.45,
    clean: 0.15,
    noise: [2, 16],
    blur: 0.15,
  },
};

export function checkDifficulty(d: string): SyntheticDifficulty {
  if (!(SYNTHETIC_DIFFICULTIES as readonly string[]).includes(d)) {
    throw new Error(`synthetic difficulty must be one of ${SYNTHETIC_DIFFICULTIES.join(', ')}; got '${d}'`);
  }
  return d as SyntheticDifficulty;
}
