export { DEFAULT_VALIDATION_CONFIG, mergeValidationConfig, type ValidationConfig, type ValidationConfigInput } from './config.js';
export { validateDataset, type ValidateDatasetInput } from './validate.js';
export { assertValidationGate, ValidationGateError, type GateOutcome } from './gate.js';
export { saveValidationReport, loadValidationReport, formatValidationReport, validationReportPath } from './report.js';
export { measureImageFile, measurePixels, PropertyCache } from './properties.js';
export type { CheckResult, CheckStatus, ValidationReport, PropertyName } from './types.js';
export { PROPERTY_NAMES } from './types.js';
export { validateStoredDataset, type ValidateStoredOptions } from './dataset.js';
export { datasetNameFromSpec } from '../data/dataset-name.js';
