import { describe, expect, it } from 'vitest';
import { describeArchs } from '../../backbone/catalog.js';
import { countResNet, planResNet } from '../../backbone/plan.js';
import { resnetConfig } from '../../backbone/config.js';
import { runCli } from '../helpers/cli.js';

/**
 * The counts against the paper. FLOPs (multiply-adds) from Table 1 are given to 2-3 significant
 * digits and are not all rounded the same way (ResNet-34 counts 3.66 G, printed 3.6), so they are
 * checked within 2%; CIFAR parameter counts (Table 6) within 2% as well (0.27M = 269,722).
 */
const PAPER_GFLOPS: Record<string, number> = {
  resnet18: 1.8,
  resnet34: 3.6,
  resnet50: 3.8,
  resnet101: 7.6,
  resnet152: 11.3,
};
const PAPER_CIFAR_PARAMS_M: Record<string, number> = {
  resnet20: 0.27,
  resnet32: 0.46,
  resnet44: 0.66,
  resnet56: 0.85,
  resnet110: 1.7,
  resnet1202: 19.4,
};

describe('resdet models', () => {
  const rows = new Map(describeArchs().map((r) => [r.arch, r]));

  it.each(Object.entries(PAPER_GFLOPS))('%s has the paper FLOPs (%s G)', (arch, gflops) => {
    const row = rows.get(arch);
    expect(row?.input).toBe(224);
    expect(Math.abs((row?.flops ?? 0) / 1e9 - gflops) / gflops).toBeLessThan(0.02);
  });

  it.each(Object.entries(PAPER_CIFAR_PARAMS_M))('%s has the paper parameters (%sM)', (arch, millions) => {
    const row = rows.get(arch);
    expect(row?.input).toBe(32);
    expect(Math.abs((row?.params ?? 0) / 1e6 - millions) / millions).toBeLessThan(0.02);
  });

  it("matches torchvision's parameter counts exactly", () => {
    // torchvision: resnet18 11,689,512; resnet50 25,557,032; resnet101 44,549,160.
    expect(rows.get('resnet18')?.params).toBe(11_689_512);
    expect(rows.get('resnet50')?.params).toBe(25_557_032);
    expect(rows.get('resnet101')?.params).toBe(44_549_160);
  });

  it("counts torchvision's v1.5 ResNet-50 at 4.09 GFLOPs", () => {
    const r50 = countResNet(planResNet(resnetConfig('resnet50')), 224);
    expect(r50.flops / 1e9).toBeCloseTo(4.089, 2);
  });

  it('plain nets have the same layers minus projection shortcuts', () => {
    expect(rows.get('plain20')?.params).toBe(rows.get('resnet20')?.params);
    expect(rows.get('plain34')?.flops).toBeLessThan(rows.get('resnet34')?.flops ?? 0);
  });

  it('prints JSON from the CLI', async () => {
    const { code, stdout } = await runCli(['models', '--json']);
    expect(code).toBe(0);
    const list = JSON.parse(stdout) as { arch: string; params: number; flops: number; input: number }[];
    expect(list.map((r) => r.arch)).toContain('resnet1202');
    const r56 = list.find((r) => r.arch === 'resnet56');
    expect(r56).toMatchObject({ input: 32, params: rows.get('resnet56')?.params });
  });
});
