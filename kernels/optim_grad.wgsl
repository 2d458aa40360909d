// Shared WGSL, no dispatch of its own: the parameter and gradient bindings of the optimiser steps and
// PyTorch's L2 weight decay, included (see core/kernel.ts) by adam.wgsl and sgd.wgsl, whose Params
// have a `weight_decay: f32` field and which define V, the type of one element (f32 or vec4<f32>).
// Bindings: 1 param (read_write, updated in place); 2 grad (read).

@group(0) @binding(1) var<storage, read_write> param: array<V>;
@group(0) @binding(2) var<storage, read> grad: array<V>;

// Element i's gradient with the weight decay added: g + wd·p (g itself when wd = 0).
fn decayed_grad(i: u32) -> V {
  var g = grad[i];
  if (p.weight_decay != 0.0) { g = g + p.weight_decay * param[i]; }
  return g;
}
