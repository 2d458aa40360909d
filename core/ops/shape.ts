// Shape ops: reshape (a view of the same storage) and 2-D transpose.

import { Params, rt } from "../kernel.ts";
import { record } from "../autograd.ts";
import { type Shape, shapeString, sizeOf, Tensor } from "../tensor.ts";

/** The same values with another shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  let target = [...shape];
  if (inferred > 1) throw new Error(`reshape: only one dimension may be -1, got ${shapeString(shape)}`);
  if (inferred === 1) {
    const rest = sizeOf(known);
    if (rest === 0 || x.size % rest !== 0) {
      throw new Error(`reshape: cannot view ${shapeString(x.shape)} as ${shapeString(shape)}`);
    }
    target = shape.map((d) => (d === -1 ? x.size / rest : d));
  }
  if (sizeOf(target) !== x.size) {
    throw new Error(
      `reshape: cannot view ${shapeString(x.shape)} (${x.size} values) as ${shapeString(shape)}`,
    );
  }
  const y = x.view(target);
  return record(y, "reshape", [x], (gy) => [gy.view(x.shape)]);
}

/** x [R, C] → [C, R], no tape; with `bias` [R], out[c, r] = x[r, c] + bias[r]. */
export function transposeKernel(x: Tensor, bias?: Tensor, label = "transpose"): Tensor {
  const [R, C] = x.shape;
  if (bias && bias.size !== R) {
    throw new Error(
      `transpose: bias ${shapeString(bias.shape)} does not match ${R} rows of ${shapeString(x.shape)}`,
    );
  }
  const y = Tensor.empty([C, R]);
  const def = { file: "transpose.wgsl", storage: 3, writes: [2] };
  rt().dispatch(
    def,
    [x.buffer, (bias ?? x).buffer, y.buffer],
    new Params().u32(R, C, bias ? 1 : 0),
    [Math.ceil(C / 32), Math.ceil(R / 32)],
    label,
  );
  return y;
}

/** [R, C] → [C, R]. */
export function transpose(x: Tensor): Tensor {
  if (x.rank !== 2) throw new Error(`transpose: expected a 2-D tensor, got shape ${shapeString(x.shape)}`);
  const y = transposeKernel(x);
  return record(y, "transpose", [x], (gy) => [transposeKernel(gy)]);
}

/** The same values cut off from the tape: no gradient flows back through the result. */
export function detach(x: Tensor): Tensor {
  return x.view(x.shape);
}
