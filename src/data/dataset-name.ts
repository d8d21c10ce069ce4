import path from 'node:path';

/** A dataset name from a folder path: its base name, reduced to the characters data set names allow. */
export function datasetNameFromSpec(spec: string): string {
  const base = path.basename(path.resolve(spec.replace(/^folder:/, ''))).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return base || 'dataset';
}

/** The data set name a pipeline run (and a notebook) uses: `name`, else one derived from the data spec. */
export function datasetName(opts: { data: string; name?: string }): string {
  if (opts.name) return opts.name;
  const spec = opts.data;
  if (spec.startsWith('synthetic')) return spec.replace(/[^A-Za-z0-9._-]+/g, '-');
  if (spec.startsWith('s3://')) return spec.slice(5).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/-+$/, '');
  return datasetNameFromSpec(spec);
}
