// Modules: named parameters and buffers, train/eval mode, and state dicts in PyTorch's names and layouts.

import { Tensor } from "./tensor.ts";
import { type Rng } from "./random.ts";
import { linear } from "./ops/matmul.ts";
import { type HostTensor } from "./io/safetensors.ts";

/** A leaf tensor that requires a gradient and lives until disposed. */
export function parameter(data: Float32Array<ArrayBuffer>, shape: number[], name = ""): Tensor {
  const t = Tensor.from(data, shape).keep();
  t.requiresGrad = true;
  t.name = name;
  return t;
}

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  protected registerParameter(name: string, t: Tensor): Tensor {
    this.#params.set(name, t);
    return t;
  }

  /** A persistent tensor that is part of the state but not trained (e.g. batch-norm running stats). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    t.keep();
    this.#buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  *namedParameters(prefix = ""): Generator<[string, Tensor]> {
    for (const [n, t] of this.#params) yield [prefix + n, t];
    for (const [n, m] of this.#children) yield* m.namedParameters(`${prefix}${n}.`);
  }

  *namedBuffers(prefix = ""): Generator<[string, Tensor]> {
    for (const [n, t] of this.#buffers) yield [prefix + n, t];
    for (const [n, m] of this.#children) yield* m.namedBuffers(`${prefix}${n}.`);
  }

  *modules(): Generator<Module> {
    yield this;
    for (const m of this.#children.values()) yield* m.modules();
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }

  /** Parameters and buffers by their PyTorch names (e.g. `main.0.weight`). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies the state to the host, e.g. to write a checkpoint. */
  async hostStateDict(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const [name, t] of this.stateDict()) out.set(name, { shape: [...t.shape], data: await t.read() });
    return out;
  }

  /**
   * Loads a state dict; every name must be present with the same shape (the error names the tensor
   * and both shapes). `source` names where the state came from in errors.
   */
  loadStateDict(state: Map<string, HostTensor>, source = "state dict"): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new Error(
        `${source} does not match the model: ` +
          [
            missing.length ? `missing ${missing.join(", ")}` : "",
            unexpected.length ? `unexpected ${unexpected.join(", ")}` : "",
          ].filter(Boolean).join("; "),
      );
    }
    for (const [name, t] of own) {
      const src = state.get(name)!;
      if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(`${source}: tensor ${name} has shape [${src.shape}], the model expects [${t.shape}]`);
      }
    }
    for (const [name, t] of own) t.write(state.get(name)!.data);
  }

  /** Training mode (batch statistics) or eval mode (running statistics), recursively. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Freezes (false) or unfreezes every parameter. */
  requiresGrad(flag: boolean): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
}

/** y = x·Wᵀ + b, weight [out, in] as in PyTorch; default init U(−1/√in, 1/√in) as torch.nn.Linear. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    gen: Rng,
    opts: { bias?: boolean } = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter(
      "weight",
      parameter(gen.uniform(outFeatures * inFeatures, -bound, bound), [outFeatures, inFeatures], "weight"),
    );
    this.bias = opts.bias === false ? null : this.registerParameter(
      "bias",
      parameter(gen.uniform(outFeatures, -bound, bound), [outFeatures], "bias"),
    );
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }
}
