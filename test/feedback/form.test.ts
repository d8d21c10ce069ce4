import { describe, expect, it } from 'vitest';
import { parseFeedbackFields, FeedbackFormError } from '../../src/feedback/form.js';

const base = { consent: 'true', answer: 'cat', prediction: 'not-cat' };

function refusal(fields: Record<string, string>): FeedbackFormError {
  try {
    parseFeedbackFields({ ...base, ...fields });
  } catch (err) {
    if (err instanceof FeedbackFormError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(fields)}`);
}

describe('feedback form numbers: strict decimals with ranges', () => {
  it('refuses a model version that is not a whole decimal number in range', () => {
    for (const v of ['1e300', '1e3', '0x10', '1.0', '-1', '+1', ' 1', '1_0', 'Infinity', '9007199254740993', '1'.repeat(60)]) {
      const err = refusal({ modelVersion: v });
      expect(err.code, v).toBe('invalid_modelVersion');
      expect(err.message).toMatch(/whole number/);
    }
  });

  it('refuses a probability that is not a decimal from 0 to 1', () => {
    for (const p of ['0x0', '0b1', '0o1', '1.5', '-0.1', '1e3', 'NaN', 'Infinity', '', '0.5 ', '.', '1e', '1e-99999']) {
      if (p === '') continue; // blank: not sent
      const err = refusal({ probability: p });
      expect(err.code, p).toBe('invalid_probability');
      expect(err.message).toContain(JSON.stringify(p));
    }
  });

  it('accepts what clients send: decimals, the exponent form of tiny values, and blanks as not sent', () => {
    expect(parseFeedbackFields({ ...base, probability: '0.83', modelVersion: '12' })).toMatchObject({ probability: 0.83, modelVersion: 12 });
    expect(parseFeedbackFields({ ...base, probability: String(1e-7) }).probability).toBe(1e-7);
    expect(parseFeedbackFields({ ...base, probability: '1', modelVersion: '0' })).toMatchObject({ probability: 1, modelVersion: 0 });
    expect(parseFeedbackFields({ ...base, probability: '.5' }).probability).toBe(0.5);
    expect(parseFeedbackFields({ ...base, probability: '', modelVersion: ' ' })).toMatchObject({ probability: null, modelVersion: null });
  });
});
