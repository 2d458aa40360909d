// Tensor: a float32 array on the GPU with a shape, and the scopes that free intermediate tensors.

import { rt } from "./kernel.ts";
import type { Node } from "./autograd.ts";

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${what}: invalid shape ${shapeString(shape)}; dimensions must be integers ≥ 0`);
    }
  }
}

/** A GPU buffer shared by a tensor and its reshaped views; freed when the last one is disposed. */
class Storage {
  refs = 1;
  constructor(readonly buffer: GPUBuffer, readonly bytes: number) {}
}

/** Tensors created inside each open scope, innermost last. */
const scopes: Set<Tensor>[] = [];

export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  #storage: Storage | null;
  /** Whether gradients flow to this tensor (set on leaves; derived for op outputs). */
  requiresGrad = false;
  /** Accumulated gradient, for leaves that require one. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it is part of the autograd tape. */
  node: Node | null = null;
  name = "";

  private constructor(shape: Shape, storage: Storage) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.#storage = storage;
    scopes.at(-1)?.add(this);
  }

  /** A new tensor with unspecified contents. */
  static empty(shape: Shape): Tensor {
    checkShape(shape, "Tensor.empty");
    const bytes = Math.max(4, sizeOf(shape) * 4);
    return new Tensor(shape, new Storage(rt().pool.acquire(bytes), bytes));
  }

  /** A tensor holding `data` (row-major). */
  static from(data: ArrayLike<number>, shape: Shape = [data.length]): Tensor {
    checkShape(shape, "Tensor.from");
    if (sizeOf(shape) !== data.length) {
      throw new Error(`Tensor.from: ${data.length} values do not fill shape ${shapeString(shape)}`);
    }
    const t = Tensor.empty(shape);
    t.write(
      data instanceof Float32Array && data.buffer instanceof ArrayBuffer
        ? data as Float32Array<ArrayBuffer>
        : Float32Array.from(data),
    );
    return t;
  }

  static scalar(x: number): Tensor {
    return Tensor.from([x], []);
  }

  /** A view of the same storage with another shape of the same size. */
  view(shape: Shape): Tensor {
    const s = this.#live();
    if (sizeOf(shape) !== this.size) {
      throw new Error(`reshape: cannot view ${shapeString(this.shape)} as ${shapeString(shape)}`);
    }
    s.refs++;
    return new Tensor(shape, s);
  }

  /** A view with another shape that replaces this tensor (this one is disposed). */
  reshapeOwned(shape: Shape): Tensor {
    const v = this.view(shape);
    this.dispose();
    return v;
  }

  get buffer(): GPUBuffer {
    return this.#live().buffer;
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.#storage === null;
  }

  /** Overwrites the contents with host data. */
  write(data: Float32Array<ArrayBuffer>): void {
    if (data.length !== this.size) {
      throw new Error(`write: ${data.length} values for a tensor of shape ${shapeString(this.shape)}`);
    }
    if (this.size > 0) rt().writeBuffer(this.buffer, 0, data);
  }

  /** Reads the contents back to the host (submits recorded work first). */
  async read(): Promise<Float32Array<ArrayBuffer>> {
    if (this.size === 0) return new Float32Array(0);
    return new Float32Array(await rt().readBuffer(this.buffer, 0, this.size * 4));
  }

  /** Reads a one-element tensor as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) {
      throw new Error(`item: tensor of shape ${shapeString(this.shape)} has ${this.size} values`);
    }
    return (await this.read())[0];
  }

  /** Takes this tensor out of every scope, so that it lives until `dispose()`. */
  keep(): this {
    for (const s of scopes) s.delete(this);
    return this;
  }

  dispose(): void {
    const s = this.#storage;
    if (!s) return;
    this.#storage = null;
    this.node = null;
    if (--s.refs === 0) rt().pool.release(s.buffer);
    this.grad?.dispose();
    this.grad = null;
  }

  toString(): string {
    return `Tensor${shapeString(this.shape)}${this.name ? ` ${this.name}` : ""}`;
  }

  #live(): Storage {
    if (!this.#storage) throw new Error(`${this} was used after being disposed`);
    return this.#storage;
  }
}

type Kept =
  | Tensor
  | readonly Kept[]
  | { readonly [k: string]: Kept }
  | number
  | string
  | boolean
  | null
  | undefined;

function collect(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) { for (const v of value) collect(v, into); }
  else if (value && typeof value === "object") { for (const v of Object.values(value)) collect(v, into); }
}

/**
 * Runs `fn` in a scope: tensors created inside and not returned (or `keep()`-ed) are disposed when it
 * ends. Returned tensors move to the enclosing scope.
 */
export function scope<T extends Kept | void>(fn: () => T): T {
  const mine = new Set<Tensor>();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    for (const t of mine) t.dispose();
    throw e;
  } finally {
    scopes.pop();
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  const parent = scopes.at(-1);
  for (const t of mine) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

let stepDepth = 0;

/**
 * One training or mapping step: every dispatch recorded by `fn` goes into one command encoder that is
 * submitted once when `fn` returns; intermediate tensors are freed as in `scope`. A step inside a step
 * (a loop adding its bookkeeping around a model's step) joins the outer one's submit.
 */
export function step<T extends Kept | void>(fn: () => T): T {
  const runtime = rt();
  if (stepDepth === 0) runtime.flush();
  stepDepth++;
  try {
    return scope(fn);
  } finally {
    if (--stepDepth === 0) runtime.flush();
  }
}
