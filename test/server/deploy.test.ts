import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Copy, DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createApp } from '../../server/app.js';
import { buildProgram } from '../../tools/cli.js';
import { repoRoot } from '../helpers/cli.js';
import { fakeModels, listen } from './helpers.js';

// No container runtime or cluster here: the Dockerfile and the Kubernetes manifests are checked
// for structure, against what the CLI accepts and what the server serves.

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, read field by field
type Doc = any;

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
function manifests(path: string): Doc[] {
  return parseAllDocuments(read(path)).map((d) => {
    expect(d.errors, `${path}: ${d.errors.join('; ')}`).toEqual([]);
    return d.toJS();
  });
}
const byKind = (docs: Doc[], kind: string): Doc => {
  const found = docs.filter((d) => d.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
};

const program = await buildProgram();
function subcommand(path: string[]): Command {
  let cmd: Command = program;
  for (const name of path) {
    const next = cmd.commands.find((c) => c.name() === name);
    if (!next) throw new Error(`no command ${path.join(' ')}`);
    cmd = next;
  }
  return cmd;
}

/** Every --flag in `args` is one the command takes; returns flag -> value. */
function checkArgs(args: string[]): Map<string, string> {
  const path = args.slice(
    0,
    args.findIndex((a) => a.startsWith('--')),
  );
  const cmd = subcommand(path);
  const known = new Set(cmd.options.map((o) => o.long));
  const values = new Map<string, string>();
  for (let i = path.length; i < args.length; i += 2) {
    expect(known, `${path.join(' ')} ${args[i]}`).toContain(args[i]);
    values.set(args[i], args[i + 1]);
  }
  return values;
}

let url: string;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ url, close } = await listen(createApp({ models: fakeModels(), backend: 'cpu', log: () => {} })));
});
afterAll(() => close());

describe('deploy/serve.yaml', () => {
  const docs = manifests('deploy/serve.yaml');
  const deployment = byKind(docs, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const flags = checkArgs(container.args);

  it('is a Deployment of `resdet serve` whose probes hit the routes the server answers', async () => {
    expect(deployment.apiVersion).toBe('apps/v1');
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(container.args[0]).toBe('serve');
    expect(flags.get('--host')).toBe('0.0.0.0');
    const port = container.ports.find((p: Doc) => p.name === 'http');
    expect(String(port.containerPort)).toBe(flags.get('--port'));
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const res = await fetch(`${url}${probe.httpGet.path}`);
      expect(res.status, probe.httpGet.path).toBe(200);
    }
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.resources.requests.cpu).toBeDefined(); // the HPA's Utilization is of this
  });

  it('gives a stopping pod its preStop pause and twice --drain-timeout-ms (drain, then the last job)', () => {
    const drainS = Number(flags.get('--drain-timeout-ms')) / 1000;
    expect(drainS).toBeGreaterThan(0);
    const [sleep, seconds] = container.lifecycle.preStop.exec.command;
    expect(sleep).toBe('sleep');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(seconds) + 2 * drainS);
  });

  it('has a Service on the pods and an HPA on the Deployment', () => {
    const service = byKind(docs, 'Service');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(container.ports.map((p: Doc) => p.name)).toContain(service.spec.ports[0].targetPort);
    const hpa = byKind(docs, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(1);
    expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
  });
});

describe('deploy/queue-worker.yaml', () => {
  it('runs `resdet queue worker` with flags it takes, as a non-root user', () => {
    const deployment = byKind(manifests('deploy/queue-worker.yaml'), 'Deployment');
    const pod = deployment.spec.template.spec;
    const args = pod.containers[0].args;
    expect(args.slice(0, 2)).toEqual(['queue', 'worker']);
    expect(checkArgs(args).get('--redis')).toMatch(/^redis:\/\//);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const dockerfile = DockerfileParser.parse(text);
  const instructions = dockerfile.getInstructions();
  const args = (i: (typeof instructions)[number]) => i.getArguments().map((a) => a.getValue());
  const froms = dockerfile.getFROMs();
  const runtimeStart = froms[froms.length - 1].getRange().start.line;
  const runtime = instructions.filter((i) => i.getRange().start.line >= runtimeStart);
  const json = (keyword: string) => {
    const i = runtime.find((x) => x.getKeyword() === keyword);
    expect(i, keyword).toBeDefined();
    return JSON.parse(i?.getArgumentsContent() ?? '') as string[];
  };

  it('passes dockerfile-utils (the VS Code Docker linter) with no problems', () => {
    expect(validate(text)).toEqual([]);
  });

  it('builds in one stage and runs production dependencies only, as a non-root user', () => {
    expect(froms.map((f) => f.getBuildStage())).toEqual(['build', 'runtime']);
    const runs = runtime.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent());
    expect(runs.some((r) => /npm ci --omit=dev/.test(r ?? ''))).toBe(true);
    const fromBuild = runtime
      .filter(
        (i) =>
          i.getKeyword() === 'COPY' && (i as Copy).getFlags().some((f) => f.toString() === '--from=build'),
      )
      .map(args);
    expect(fromBuild).toEqual([['/app/dist', './dist']]);
    const user = runtime.filter((i) => i.getKeyword() === 'USER').map(args);
    expect(user).toHaveLength(1);
    expect(user[0][0]).not.toMatch(/^(root|0)(:|$)/);
  });

  it('health-checks /healthz on the port `serve` listens on, and its CMD is a valid serve', () => {
    expect(json('ENTRYPOINT')).toEqual(['node', 'dist/tools/bin.js']);
    const cmd = json('CMD');
    const flags = checkArgs(cmd);
    expect(flags.get('--host')).toBe('0.0.0.0');
    const health = runtime.find((i) => i.getKeyword() === 'HEALTHCHECK')?.getArgumentsContent() ?? '';
    expect(health).toContain(`http://127.0.0.1:${flags.get('--port')}/healthz`);
    expect(runtime.find((i) => i.getKeyword() === 'EXPOSE')?.getArgumentsContent()).toBe(flags.get('--port'));
  });

  it('copies only paths that exist and that .dockerignore lets into the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = instructions
      .filter((i) => i.getKeyword() === 'COPY')
      .filter((i) => (i as Copy).getFlags().length === 0)
      .map(args)
      .flatMap((a) => a.slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(existsSync(join(repoRoot, src.replace('/*.json', ''))), src).toBe(true);
      expect(ignored, src).not.toContain(src.split('/')[0]);
    }
    // What the package ships beside dist/ (package.json "files") is in the image too.
    const pkg = JSON.parse(read('package.json')) as { files: string[] };
    for (const f of pkg.files.filter((x) => x !== 'dist' && x !== 'README.md')) expect(sources).toContain(f);
  });
});
