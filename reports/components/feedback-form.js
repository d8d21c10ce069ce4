// The server's feedback contract, as the predict page sends it: a multipart form with the photo, what the model
// said, the user's answer, explicit consent and what may be kept (`store`: "photo", or "features": numbers only). This is the page's copy of FEEDBACK_FORM in src/feedback/form.ts
// (browser code cannot import the library); test/site/feedback-form.test.ts checks that the two are equal.
export const FEEDBACK_FORM = {
  route: "/api/feedback",
  fields: {
    photo: "photo",
    consent: "consent",
    answer: "answer",
    prediction: "prediction",
    probability: "probability",
    modelVersion: "modelVersion",
    store: "store",
  },
  answers: ["cat", "not-cat"],
  consent: "true",
  stores: ["photo", "features"],
};

/**
 * The form for one answer: `prediction` and `answer` are "cat" or "not-cat"; `version` may be null; `store` is
 * "photo" (keep the photo) or "features" (keep only the numbers the model computes from it; the default).
 */
export function feedbackFormData({ photo, prediction, answer, probability, version, store = "features" }) {
  const f = FEEDBACK_FORM.fields;
  const form = new FormData();
  form.append(f.photo, photo, "photo.jpg");
  form.append(f.prediction, prediction);
  form.append(f.answer, answer);
  form.append(f.probability, String(probability));
  if (version != null) form.append(f.modelVersion, String(version));
  form.append(f.consent, FEEDBACK_FORM.consent);
  form.append(f.store, store);
  return form;
}
