import { describe, expect, it } from 'vitest';
import { checkFeedbackFields, FEEDBACK_FORM, parseFeedbackFields } from '../../src/feedback/form.js';
import { feedbackFormData as libraryForm } from '../../src/feedback/client.js';
// The predict page's copy of the feedback contract, checked against the library's.
import { FEEDBACK_FORM as PAGE_FORM, feedbackFormData as pageForm } from '../../reports/components/feedback-form.js';

function fieldsOf(form: FormData): Record<string, string> {
  const out: Record<string, string> = {};
  form.forEach((v, k) => {
    out[k] = typeof v === 'string' ? v : `file:${v.name}`;
  });
  return out;
}

describe('predict page feedback form mirrors the library contract', () => {
  it('has the same route, field names, answers, consent value and store choices', () => {
    expect(PAGE_FORM).toEqual(FEEDBACK_FORM);
  });

  it('builds a form the server accepts, with the same fields as the typed client', () => {
    const photo = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });
    const page = fieldsOf(pageForm({ photo, prediction: 'cat', answer: 'not-cat', probability: 0.75, version: 3 }));
    const library = fieldsOf(libraryForm({
      photo: { data: photo },
      answer: 'not-cat',
      prediction: { decision: 'cat', probability: 0.75, modelVersion: 3 },
      consent: true,
      store: 'features',
    }));
    const { photo: pagePhoto, ...pageFields } = page;
    const { photo: libraryPhoto, ...libraryFields } = library;
    expect(pagePhoto).toMatch(/^file:/);
    expect(libraryPhoto).toMatch(/^file:/);
    expect(pageFields).toEqual(libraryFields);
    expect(() => checkFeedbackFields(pageFields)).not.toThrow();
    expect(parseFeedbackFields(pageFields)).toEqual({ answer: 'not-cat', decision: 'cat', probability: 0.75, modelVersion: 3, store: 'features' });
  });

  it('keeps the photo only when the page is told to (store=photo), like the typed client', () => {
    const photo = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });
    const page = fieldsOf(pageForm({ photo, prediction: 'cat', answer: 'cat', probability: 0.9, version: 1, store: 'photo' }));
    const library = fieldsOf(libraryForm({ photo: { data: photo }, answer: 'cat', prediction: { decision: 'cat', probability: 0.9, modelVersion: 1 }, consent: true, store: 'photo' }));
    expect(page.store).toBe('photo');
    expect(library.store).toBe('photo');
    expect(parseFeedbackFields(page).store).toBe('photo');
    expect(parseFeedbackFields({ ...page, store: undefined }).store).toBe('photo'); // an older client: today's behaviour
    expect(() => parseFeedbackFields({ ...page, store: 'everything' })).toThrow(/"store" must be/);
  });
});
