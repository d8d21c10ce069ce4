import { measureImageFile } from '../validation/properties.js';
import { PROPERTY_NAMES, type PropertyValues } from '../validation/types.js';

/** Image properties for drift monitoring; null when they cannot be measured (the feedback is kept regardless). */
export async function measureProperties(image: Buffer): Promise<PropertyValues | null> {
  try {
    const measured = await measureImageFile(image);
    return Object.fromEntries(PROPERTY_NAMES.map((k) => [k, measured[k]])) as PropertyValues;
  } catch {
    return null;
  }
}
