import type { Answer } from './types.js';

/** What is kept of a feedback answer: the photo (re-encoded, without metadata) or only its backbone features. */
export type FeedbackStore = 'photo' | 'features';

/**
 * The feedback form contract, the one definition: the route, the multipart field names, the allowed answers, the
 * consent value and what may be kept (`store`: `photo`, the default, or `features`: numbers only, no photo). The server checks forms with it, the typed client sends them with it, and the predict page
 * (`reports/components/predict.js`, browser JS) keeps a copy that a test compares with this one.
 */
export const FEEDBACK_FORM = {
  route: '/api/feedback',
  fields: {
    photo: 'photo',
    consent: 'consent',
    answer: 'answer',
    prediction: 'prediction',
    probability: 'probability',
    modelVersion: 'modelVersion',
    store: 'store',
  },
  answers: ['cat', 'not-cat'],
  consent: 'true',
  stores: ['photo', 'features'],
} as const satisfies {
  route: string;
  fields: Record<string, string>;
  answers: readonly Answer[];
  consent: string;
  stores: readonly FeedbackStore[];
};

/** Route of the prediction API the feedback answers. */
export const PREDICT_ROUTE = '/api/predict';

/** The text fields of a feedback form as received (all optional: a client may leave any out). */
export interface FeedbackFields {
  consent?: string;
  answer?: string;
  prediction?: string;
  probability?: string;
  modelVersion?: string;
  store?: string;
}

/** A checked feedback form. */
export interface FeedbackForm {
  /** The user's answer: is it really a cat? */
  answer: Answer;
  /** What the model said, as shown to the user. */
  decision: Answer;
  probability: number | null;
  modelVersion: number | null;
  /** What is kept: the photo, or only its features (the photo is then never written anywhere). */
  store: FeedbackStore;
}

export type FeedbackFormErrorCode =
  | 'consent_required'
  | 'invalid_answer'
  | 'invalid_prediction'
  | 'invalid_probability'
  | 'invalid_modelVersion'
  | 'invalid_store';

/** A form that breaks the contract; `code` says which rule (the server answers 400 with it). */
export class FeedbackFormError extends Error {
  constructor(
    readonly code: FeedbackFormErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FeedbackFormError';
  }
}

export function isFeedbackFormError(err: unknown): err is FeedbackFormError {
  return err instanceof FeedbackFormError;
}

function parseAnswer(value: string | undefined, field: 'answer' | 'prediction'): Answer {
  const v = (value ?? '').trim().toLowerCase();
  const answer = FEEDBACK_FORM.answers.find((a) => a === v);
  if (answer) return answer;
  throw new FeedbackFormError(`invalid_${field}`, `"${field}" must be "cat" or "not-cat"`);
}

/** Plain decimal: digits with an optional fraction and an optional short exponent (what JS `String(x)` writes). */
const DECIMAL_RE = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?$/;
/** A whole number in decimal digits: no sign, exponent, fraction or base prefix. */
const WHOLE_RE = /^\d{1,15}$/;
/** Longest number text looked at (a longer one is refused before parsing). */
const MAX_NUMBER_CHARS = 40;

/** The text shown back in an error, cut short so that a huge field does not become a huge answer. */
function shown(value: string): string {
  return JSON.stringify(value.length > MAX_NUMBER_CHARS ? `${value.slice(0, MAX_NUMBER_CHARS)}...` : value);
}

/**
 * An optional number field, parsed strictly: the text must match `pattern` (decimal only, so `0x0`, `1_0`,
 * `Infinity` or ` 1 ` never pass through `Number()`), and the value must lie in `[min, max]`.
 */
function optionalNumber(
  value: string | undefined,
  field: 'probability' | 'modelVersion',
  rule: { pattern: RegExp; min: number; max: number; what: string },
): number | null {
  if (value === undefined || value.trim() === '') return null; // left blank: not sent
  const refuse = (): never => {
    throw new FeedbackFormError(`invalid_${field}`, `"${field}" must be ${rule.what} (got ${shown(value)})`);
  };
  if (value.length > MAX_NUMBER_CHARS || !rule.pattern.test(value)) refuse();
  const x = Number(value);
  if (!Number.isFinite(x) || x < rule.min || x > rule.max) refuse();
  return x;
}

const PROBABILITY_RULE = { pattern: DECIMAL_RE, min: 0, max: 1, what: 'a decimal number from 0 to 1' };
const MODEL_VERSION_RULE = {
  pattern: WHOLE_RE,
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  what: `a whole number in decimal digits from 0 to ${Number.MAX_SAFE_INTEGER}`,
};

/** `store`: blank or absent is `photo` (the form before the choice existed); anything else must be a known value. */
function parseStore(value: string | undefined): FeedbackStore {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return 'photo';
  const store = FEEDBACK_FORM.stores.find((s) => s === v);
  if (store) return store;
  throw new FeedbackFormError('invalid_store', `"store" must be "photo" (keep the photo) or "features" (keep only its features, not the photo)`);
}

/**
 * Check the form before touching the photo: without explicit consent nothing is processed or kept (for both
 * choices of `store`: consent is to using the answer; `store` says what of the photo may be kept).
 */
export function checkFeedbackFields(fields: FeedbackFields): void {
  if ((fields.consent ?? '').trim().toLowerCase() !== FEEDBACK_FORM.consent) {
    throw new FeedbackFormError('consent_required', 'feedback is stored only with explicit consent: send consent=true');
  }
  parseAnswer(fields.answer, 'answer');
  parseAnswer(fields.prediction, 'prediction');
  parseStore(fields.store);
}

/** The whole form checked and typed: consent, both answers, what to keep, and the optional probability and model version. */
export function parseFeedbackFields(fields: FeedbackFields): FeedbackForm {
  checkFeedbackFields(fields);
  return {
    answer: parseAnswer(fields.answer, 'answer'),
    decision: parseAnswer(fields.prediction, 'prediction'),
    probability: optionalNumber(fields.probability, 'probability', PROBABILITY_RULE),
    modelVersion: optionalNumber(fields.modelVersion, 'modelVersion', MODEL_VERSION_RULE),
    store: parseStore(fields.store),
  };
}
