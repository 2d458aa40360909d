// Optimisers with PyTorch semantics, updating parameters in place on the GPU (one dispatch per tensor).

import { grid1d, Params, rt } from "./kernel.ts";
import { Tensor } from "./tensor.ts";
import { zeros } from "./ops/elementwise.ts";

const WG = 64;

export abstract class Optimizer {
  constructor(readonly params: readonly Tensor[]) {
    for (const p of params) {
      if (!p.requiresGrad) throw new Error(`optimizer: ${p} does not require a gradient`);
    }
  }

  /** Drops every gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Applies one update to every parameter that has a gradient. */
  abstract step(): void;

  /** Tensors and counters to checkpoint, by name. */
  abstract stateTensors(): Map<string, Tensor>;
  abstract get stepCount(): number;
  abstract set stepCount(n: number);

  protected launch(file: string, buffers: GPUBuffer[], params: Params, n: number, label: string): void {
    // Every binding but the gradient (binding 1) is updated in place.
    const writes = [...buffers.keys()].filter((i) => i !== 1);
    const def = { file, constants: { WG }, storage: buffers.length, writes };
    rt().dispatch(def, buffers, params, grid1d(Math.ceil(n / WG)), label);
  }
}

function persistentZeros(like: Tensor): Tensor {
  return zeros(like.shape).keep();
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Adam (Kingma & Ba), exactly as torch.optim.Adam with amsgrad off. */
export class Adam extends Optimizer {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  #m: Tensor[];
  #v: Tensor[];
  #t = 0;

  constructor(params: readonly Tensor[], opts: AdamOptions = {}) {
    super(params);
    this.lr = opts.lr ?? 1e-3;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.#m = params.map(persistentZeros);
    this.#v = params.map(persistentZeros);
  }

  step(): void {
    this.#t++;
    const [b1, b2] = this.betas;
    const stepSize = this.lr / (1 - b1 ** this.#t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.#t);
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const params = new Params().u32(p.size).f32(
        b1,
        b2,
        1 - b1,
        1 - b2,
        stepSize,
        bc2Sqrt,
        this.eps,
        this.weightDecay,
      );
      // adam.wgsl updates four values per invocation.
      this.launch(
        "adam.wgsl",
        [p.buffer, p.grad.buffer, this.#m[i].buffer, this.#v[i].buffer],
        params,
        Math.ceil(p.size / 4),
        "adam",
      );
    });
  }

  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.params.forEach((_, i) => {
      out.set(`${i}.exp_avg`, this.#m[i]);
      out.set(`${i}.exp_avg_sq`, this.#v[i]);
    });
    return out;
  }

  get stepCount(): number {
    return this.#t;
  }
  set stepCount(n: number) {
    this.#t = n;
  }
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** SGD with optional momentum, dampening, weight decay and Nesterov, as torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly opts: Required<SgdOptions>;
  #buf: Tensor[];
  #t = 0;

  constructor(params: readonly Tensor[], opts: SgdOptions) {
    super(params);
    this.opts = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...opts };
    if (this.opts.nesterov && (this.opts.momentum <= 0 || this.opts.dampening !== 0)) {
      throw new Error("SGD: Nesterov momentum requires momentum > 0 and dampening = 0");
    }
    this.#buf = params.map(persistentZeros);
  }

  step(): void {
    const o = this.opts;
    const first = this.#t === 0 ? 1 : 0;
    this.#t++;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const params = new Params().u32(p.size).f32(o.lr, o.momentum, o.dampening, o.weightDecay)
        .u32(first, o.nesterov ? 1 : 0);
      this.launch("sgd.wgsl", [p.buffer, p.grad.buffer, this.#buf[i].buffer], params, p.size, "sgd");
    });
  }

  stateTensors(): Map<string, Tensor> {
    return new Map(this.#buf.map((b, i) => [`${i}.momentum_buffer`, b]));
  }

  get stepCount(): number {
    return this.#t;
  }
  set stepCount(n: number) {
    this.#t = n;
  }
}
