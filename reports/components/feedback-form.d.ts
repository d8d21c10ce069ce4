// Types of feedback-form.js for the test that checks it against the library's contract.
export const FEEDBACK_FORM: {
  route: string;
  fields: Record<string, string>;
  answers: string[];
  consent: string;
  stores: string[];
};
export function feedbackFormData(item: {
  photo: Blob;
  prediction: string;
  answer: string;
  probability: number;
  version: number | null | undefined;
  store?: string;
}): FormData;
