import { Command } from 'commander';
import { DEFAULT_POLICY } from '../../registry/gate.js';
import { registerFromRun } from '../../registry/from-run.js';
import { getVersion, listVersions, promote, readDecisions, readPolicy, readPromoted, rollback, writePolicy } from '../../registry/registry.js';
import type { Decision, PrimaryMetric, PromotionPolicy } from '../../registry/types.js';
import { publishIfConfigured, publishRegistry } from '../../registry/publish.js';
import { defaultModelsUrl, openModelsLocation } from '../../registry/remote.js';
import { DEFAULT_TRITON_NAME, inputContract, writeTritonRepository } from '../../registry/onnx-export.js';
import { action } from '../program.js';
import { formatNumber, printListing } from '../output.js';

function unitInterval(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) throw new Error(`--${name} must be a number in [0, 1], got "${v}"`);
    return n;
  };
}

function formatDecision(d: Decision): string {
  const head = {
    promote: `promoted v${d.candidate}`,
    reject: `v${d.candidate} NOT promoted; v${d.previous ?? '-'} stays`,
    'force-promote': `force-promoted v${d.candidate}`,
    rollback: `rolled back from v${d.previous} to v${d.candidate}`,
  }[d.action];
  const lines = [`${head}  (decision ${d.id}, ${d.time})`];
  for (const c of d.checks) lines.push(`  [${c.passed ? 'pass' : 'FAIL'}] ${c.name}: ${c.detail}`);
  if (d.userReason) lines.push(`  reason: ${d.userReason}`);
  return lines.join('\n') + '\n';
}

const stderrLog = (m: string) => process.stderr.write(`${m}\n`);

export function registerRegistryCommands(program: Command): void {
  const reg = program.command('registry').description('Model versions, the promotion gate, promotion and rollback');

  reg
    .command('list')
    .description('List model versions; * marks the promoted one')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const [{ versions, broken }, promoted] = await Promise.all([listVersions(), readPromoted()]);
        printListing({
          asJson: opts.json,
          json: () => ({ promoted: promoted?.version ?? null, versions: versions.map((v) => v.card), broken }),
          items: versions,
          empty: 'no model versions yet (register one: areyouacat registry register RUN_ID)',
          header: ['VERSION', 'RUN', 'TEST SET', 'PRECISION', 'RECALL', 'F1', 'PR-AUC', 'THRESHOLD', 'CREATED (UTC)'],
          row: ({ version, card }) => [
            `${promoted?.version === version ? '*' : ' '} v${version}`,
            card.runId ?? '-',
            `${card.dataset.name ?? '-'} ${card.dataset.manifestHash.slice(0, 12)}`,
            formatNumber(card.metrics.precision),
            formatNumber(card.metrics.recall),
            formatNumber(card.metrics.f1),
            formatNumber(card.metrics.prAuc),
            formatNumber(card.threshold),
            card.createdAt.replace('T', ' ').slice(0, 19),
          ],
          skipped: broken.map((b) => `skipped damaged version v${b.version}: ${b.problem}`),
        });
      }),
    );

  reg
    .command('show <version>')
    .description('Show a version\'s card and the decisions about it')
    .option('--json', 'print JSON')
    .action(
      action(async (v: string, opts: { json?: boolean }) => {
        const m = await getVersion(v);
        const promoted = await readPromoted();
        const decisions = (await readDecisions()).filter((d) => d.candidate === m.version || d.previous === m.version);
        if (opts.json) {
          process.stdout.write(JSON.stringify({ ...m, promoted: promoted?.version === m.version, decisions }, null, 2) + '\n');
          return;
        }
        const c = m.card;
        const out = [
          `model v${m.version}${promoted?.version === m.version ? '  (promoted)' : ''}`,
          `dir         ${m.dir}`,
          `run         ${c.runId ?? '-'}`,
          `test set    ${c.dataset.name ?? '-'}  manifest ${c.dataset.manifestHash}`,
          `threshold   ${c.threshold} (${c.thresholdStrategy})`,
          `image size  ${c.imageSize}x${c.imageSize}`,
          `created     ${c.createdAt}`,
          `files       ${c.files.join(', ')}`,
          '',
          'test metrics',
          ...Object.entries(c.metrics).map(([k, val]) => `  ${k.padEnd(24)} ${formatNumber(val)}`),
        ];
        if (c.notes) out.push('', 'notes', ...Object.entries(c.notes).map(([k, val]) => `  ${k.padEnd(24)} ${val ?? '-'}`));
        process.stdout.write(out.join('\n') + '\n');
        if (decisions.length) {
          process.stdout.write('\ndecisions\n');
          for (const d of decisions) process.stdout.write(formatDecision(d));
        }
      }),
    );

  reg
    .command('register <runId>')
    .description('Add the model of a finished run as a new version (does not promote it)')
    .option('--image-size <n>', 'input size, when the run has no imageSize param', (v) => Number(v))
    .action(
      action(async (runId: string, opts: { imageSize?: number }) => {
        const m = await registerFromRun(runId, { imageSize: opts.imageSize });
        process.stdout.write(`registered v${m.version} from run ${m.card.runId}: precision ${formatNumber(m.card.metrics.precision)} recall ${formatNumber(m.card.metrics.recall)} f1 ${formatNumber(m.card.metrics.f1)}\n`);
      }),
    );

  reg
    .command('promote <version>')
    .description(
      `Promote a version if it passes the gate (exit code 2 when the gate refuses). Default gate: precision >= ${DEFAULT_POLICY.minPrecision}, ` +
        `recall >= ${DEFAULT_POLICY.minRecall}, and ${DEFAULT_POLICY.primaryMetric} not worse than the champion's by more than ${DEFAULT_POLICY.tolerance} ` +
        `on the same test set; 'registry policy' shows and changes it, options override it for one decision`,
    )
    .option('--force', 'promote even if the gate refuses (needs --reason)')
    .option('--reason <text>', 'why (recorded with the decision)')
    .option('--min-precision <p>', 'minimum precision on the test split', unitInterval('min-precision'))
    .option('--min-recall <r>', 'minimum recall on the test split', unitInterval('min-recall'))
    .option('--metric <name>', 'metric compared with the champion: f1, prAuc, rocAuc, precision, recall, accuracy')
    .option('--tolerance <t>', 'how much worse than the champion still counts as not worse', unitInterval('tolerance'))
    .option('--allow-different-test-set', 'decide on the minimums alone when the champion was tested on other data')
    .action(
      action(async (v: string, opts: { force?: boolean; reason?: string; minPrecision?: number; minRecall?: number; metric?: string; tolerance?: number; allowDifferentTestSet?: boolean }) => {
        const policy: Partial<PromotionPolicy> = {
          minPrecision: opts.minPrecision,
          minRecall: opts.minRecall,
          primaryMetric: opts.metric as PrimaryMetric | undefined,
          tolerance: opts.tolerance,
          onDifferentTestSet: opts.allowDifferentTestSet ? 'ignore-champion' : undefined,
        };
        const d = await promote(v, { policy, force: opts.force, reason: opts.reason });
        process.stdout.write(formatDecision(d));
        if (d.action !== 'reject') await publishIfConfigured({ log: stderrLog });
        return d.action === 'reject' ? 2 : 0;
      }),
    );

  reg
    .command('policy')
    .description('Show the promotion policy, or change it with the options (stored in the registry as policy.json)')
    .option('--min-precision <p>', 'minimum precision on the test split', unitInterval('min-precision'))
    .option('--min-recall <r>', 'minimum recall on the test split', unitInterval('min-recall'))
    .option('--metric <name>', 'metric compared with the champion: f1, prAuc, rocAuc, precision, recall, accuracy')
    .option('--tolerance <t>', 'how much worse than the champion still counts as not worse', unitInterval('tolerance'))
    .option('--different-test-set <mode>', 'reject or ignore-champion when the champion was tested on other data')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { minPrecision?: number; minRecall?: number; metric?: string; tolerance?: number; differentTestSet?: string; json?: boolean }) => {
        const changes: Partial<PromotionPolicy> = {
          minPrecision: opts.minPrecision,
          minRecall: opts.minRecall,
          primaryMetric: opts.metric as PrimaryMetric | undefined,
          tolerance: opts.tolerance,
          onDifferentTestSet: opts.differentTestSet as PromotionPolicy['onDifferentTestSet'] | undefined,
        };
        const changing = Object.values(changes).some((v) => v !== undefined);
        const policy = changing ? await writePolicy(changes) : await readPolicy();
        if (opts.json) process.stdout.write(JSON.stringify(policy, null, 2) + '\n');
        else {
          process.stdout.write(`${changing ? 'policy updated' : 'promotion policy'}\n`);
          for (const [k, v] of Object.entries(policy)) process.stdout.write(`  ${k.padEnd(20)} ${v}\n`);
        }
      }),
    );

  reg
    .command('rollback <version>')
    .description('Point the promoted model back at an earlier version')
    .requiredOption('--reason <text>', 'why (recorded with the decision)')
    .action(
      action(async (v: string, opts: { reason: string }) => {
        process.stdout.write(formatDecision(await rollback(v, { reason: opts.reason })));
        await publishIfConfigured({ log: stderrLog });
      }),
    );

  reg
    .command('publish [version]')
    .description(
      'Publish model versions and the promotion pointer to S3 for replicas (serve --model-from): the promoted version ' +
        '(and VERSION, or every version with --all), each with a manifest of checksums written last, then promoted.json. ' +
        'Promote and rollback publish by themselves when AREYOUACAT_S3_BUCKET is set',
    )
    .option('--all', 'publish every local version')
    .option('--to <url>', 'where: s3://bucket/prefix (default s3://$AREYOUACAT_S3_BUCKET/models/)')
    .option('--json', 'print JSON')
    .action(
      action(async (v: string | undefined, opts: { all?: boolean; to?: string; json?: boolean }) => {
        if (v && opts.all) throw new Error('give a VERSION or --all, not both');
        const url = opts.to ?? defaultModelsUrl();
        if (!url) throw new Error('nowhere to publish: give --to s3://bucket/prefix or set AREYOUACAT_S3_BUCKET');
        const loc = openModelsLocation(url, { connectTimeoutMs: 2000, requestTimeoutMs: 30_000, maxAttempts: 2 });
        try {
          const r = await publishRegistry(loc, { versions: opts.all ? 'all' : (v ?? 'promoted'), log: opts.json ? undefined : stderrLog });
          if (opts.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          else {
            for (const p of r.versions) process.stdout.write(`v${p.version}  ${p.uploaded ? 'published' : 'already published'}  manifest ${p.manifestSha256.slice(0, 12)}  (${p.files} files)\n`);
            process.stdout.write(r.pointer ? `promoted: v${r.pointer.version} at ${r.url}promoted.json\n` : 'nothing is promoted locally: no pointer published\n');
          }
        } finally {
          loc.store.close();
        }
      }),
    );

  reg
    .command('export <version>')
    .description(
      'Write a version as one ONNX file (RGB 0..255 float32 NHWC pixels in, p_cat out; a backbone model takes the whole view ' +
        'of any allowed shape and answers the mean over the view and its mirror image, as the server does) in a Triton ' +
        'model repository: OUT/NAME/config.pbtxt and OUT/NAME/1/model.onnx',
    )
    .requiredOption('--out <dir>', 'the model repository folder to write into')
    .option('--format <format>', 'the export format (onnx)', 'onnx')
    .option('--name <name>', 'the model name in the repository', DEFAULT_TRITON_NAME)
    .option('--json', 'print JSON')
    .action(
      action(async (v: string, opts: { out: string; format: string; name: string; json?: boolean }) => {
        if (opts.format !== 'onnx') throw new Error(`--format ${opts.format} is not supported (onnx is)`);
        const r = await writeTritonRepository(v, opts.out, { name: opts.name });
        const e = r.exported;
        const summary = { version: e.version, model: r.model, config: r.config, sha256: e.sha256, bytes: e.bytes.byteLength, input: { name: e.inputName, shape: e.inputShape }, output: { name: e.outputName, shape: e.outputShape }, backbone: e.backbone, mirrorMean: e.mirrorMean, threshold: e.card.threshold, inputContract: inputContract(e) };
        if (opts.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        else {
          process.stdout.write(`exported v${e.version} to ${r.model} (${(e.bytes.byteLength / 1e6).toFixed(1)} MB, sha256 ${e.sha256.slice(0, 12)})\n`);
          process.stdout.write(`triton config ${r.config}\n`);
          process.stdout.write(`input  ${e.inputName} [${e.inputShape.map((d) => d ?? '?').join(', ')}]: ${summary.inputContract}\n`);
          process.stdout.write(`output ${e.outputName} [${e.outputShape.map((d) => d ?? '?').join(', ')}]: P(cat); a cat at >= ${e.card.threshold}\n`);
        }
      }),
    );

  reg
    .command('decisions')
    .description('Every promotion decision, oldest first')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const ds = await readDecisions();
        if (opts.json) process.stdout.write(JSON.stringify(ds, null, 2) + '\n');
        else if (!ds.length) process.stdout.write('no decisions yet\n');
        else for (const d of ds) process.stdout.write(formatDecision(d));
      }),
    );
}
