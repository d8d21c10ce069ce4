export { fetchDataset, fetchedDir, type FetchOptions, type FetchRecord, type FetchResult } from './fetch.js';
export { downloadFile, hashFile, type DownloadOptions, type DownloadResult } from './download.js';
export { extractTarGz, extractZip } from './unpack.js';
export { CALTECH_101, OXFORD_IIIT_PET, RECIPES, getRecipe, type FetchRecipe, type Placement } from './recipes.js';
