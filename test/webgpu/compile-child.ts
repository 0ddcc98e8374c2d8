import { readFileSync } from 'node:fs';
import { compileBatch, openNullDevice, type ShaderSource } from '../../core/webgpu/dawn.js';

/**
 * Compiles the WGSL modules given as JSON on stdin with Dawn's null backend and prints one error
 * string per module ('' = compiled) as JSON. A separate process because dawn.node aborts inside
 * vitest's worker processes on this machine (it does not in a plain Node process).
 */
const shaders = JSON.parse(readFileSync(0, 'utf8')) as ShaderSource[];
const device = await openNullDevice();
const errors = await compileBatch(device, shaders);
process.stdout.write(`${JSON.stringify(errors)}\n`);
// Dawn keeps the process alive while its GPU object exists.
process.exit(0);
