// DINO's self-distillation loss:
// M. Caron, H. Touvron, I. Misra, H. Jegou, J. Mairal, P. Bojanowski, A. Joulin,
// "Emerging Properties in Self-Supervised Vision Transformers", 2021,
// https://arxiv.org/abs/2104.14294 (Section 3.1 and Algorithm 1).
//
// The teacher sees the global crops, the student every crop, global crops first. For
// each teacher view i and each student view j != i, the cross-entropy
// -sum_k P_t(i)_k log P_s(j)_k, averaged over the batch, with
//   P_t = softmax((teacher - center) / teacherTemperature), with no gradient (the paper's
//         stop-gradient on the teacher is part of the loss),
//   P_s = softmax(student / studentTemperature);
// the loss is the mean over those pairs. The center is a running mean of the teacher's
// logits (updateCenter, called by the method after each step); with sharpening by the
// low teacher temperature it keeps the teacher from collapsing.
//
// Defaults (the paper's): studentTemperature 0.1, teacherTemperature 0.04 (the method
// warms it up to 0.04-0.07; pass the current value to forward), centerMomentum 0.9.
import { Tensor, cat, noGrad, sameDevice, tidy, zeros, type Device } from '../../tensor/index.js';
import { Module } from '../../nn/module.js';
import { checkMatrices, checkPositive, shapeText } from './check.js';

export interface DinoLossOptions {
  /** Size of the projection head's output (K in the paper), the width of every logit row. */
  outDim: number;
  studentTemperature?: number;
  teacherTemperature?: number;
  /** m in center = m * center + (1 - m) * batch mean; default 0.9. */
  centerMomentum?: number;
  device?: Device;
}

/**
 * DINO's loss with its center, a persistent buffer [1, outDim] saved in checkpoints as
 * 'center'. `forward(student, teacher)` takes lists of views, each [B, outDim].
 */
export class DinoLoss extends Module {
  center: Tensor;
  readonly outDim: number;
  readonly studentTemperature: number;
  readonly teacherTemperature: number;
  readonly centerMomentum: number;

  constructor(options: DinoLossOptions) {
    super();
    const { outDim, studentTemperature = 0.1, teacherTemperature = 0.04, centerMomentum = 0.9 } = options;
    if (!Number.isInteger(outDim) || outDim < 1) throw new RangeError(`DinoLoss: outDim must be a positive integer, got ${String(outDim)}`);
    checkPositive('DinoLoss', 'studentTemperature', studentTemperature);
    checkPositive('DinoLoss', 'teacherTemperature', teacherTemperature);
    if (!(typeof centerMomentum === 'number' && centerMomentum >= 0 && centerMomentum <= 1)) {
      throw new RangeError(`DinoLoss: centerMomentum must be in [0, 1], got ${String(centerMomentum)}`);
    }
    this.outDim = outDim;
    this.studentTemperature = studentTemperature;
    this.teacherTemperature = teacherTemperature;
    this.centerMomentum = centerMomentum;
    this.center = this.registerBuffer('center', noGrad(() => zeros([1, outDim], { device: options.device })));
  }

  /**
   * The loss over all (teacher view i, student view j) pairs with i != j; teacher view i
   * is the same crop as student view i. `teacherTemperature` overrides the option
   * (for the warm-up schedule).
   */
  override forward(studentLogits: Tensor[], teacherLogits: Tensor[], teacherTemperature?: number): Tensor;
  /** Module's one-tensor form, there only because Module declares it: it throws a TypeError. */
  override forward(x: Tensor): never;
  override forward(studentLogits: Tensor[] | Tensor, teacherLogits?: Tensor[], teacherTemperature = this.teacherTemperature): Tensor {
    if (!Array.isArray(studentLogits) || !Array.isArray(teacherLogits)) {
      throw new TypeError('DinoLoss.forward: expected (studentLogits: Tensor[], teacherLogits: Tensor[]), one [B, outDim] tensor per view');
    }
    this.#checkViews('DinoLoss.forward', { studentLogits, teacherLogits }, true);
    checkPositive('DinoLoss.forward', 'teacherTemperature', teacherTemperature);
    if (studentLogits.length < teacherLogits.length || studentLogits.length < 2) {
      throw new RangeError(`DinoLoss.forward: the student needs every teacher view (its first ${teacherLogits.length}) and at least 2 views in all, ` +
        `so that some pair (teacher i, student j != i) exists; got ${studentLogits.length} student and ${teacherLogits.length} teacher views`);
    }
    return tidy(() => {
      const teacherProbs = noGrad(() => teacherLogits.map((t) => t.sub(this.center).div(teacherTemperature).softmax(1)));
      const studentLogProbs = studentLogits.map((s) => s.div(this.studentTemperature).logSoftmax(1));
      let total: Tensor | null = null;
      let pairs = 0;
      teacherProbs.forEach((p, i) => {
        studentLogProbs.forEach((logP, j) => {
          if (i === j) return; // the same crop: nothing to predict
          const crossEntropy = p.mul(logP).sum(1).mean().neg();
          total = total === null ? crossEntropy : total.add(crossEntropy);
          pairs += 1;
        });
      });
      return total!.div(pairs);
    });
  }

  /** center = m * center + (1 - m) * (mean over the batch of all teacher views), in place. */
  updateCenter(teacherLogits: Tensor[]): void {
    this.#checkViews('DinoLoss.updateCenter', { teacherLogits }, false);
    noGrad(() => tidy(() => {
      const batchCenter = cat(teacherLogits, 0).mean(0, true);
      this.center.mul_(this.centerMomentum).add_(batchCenter, 1 - this.centerMomentum);
    }));
  }

  /** Every list non-empty, every view [B, outDim] (one B for all when `sameBatch`), on the center's device. */
  #checkViews(where: string, lists: Record<string, Tensor[]>, sameBatch: boolean): void {
    const named: Record<string, unknown> = {};
    for (const [name, list] of Object.entries(lists)) {
      if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${where}: '${name}' must be a non-empty array of Tensors (one per view)`);
      list.forEach((t, i) => { named[`${name}[${i}]`] = t; });
    }
    checkMatrices(where, named);
    const views = Object.entries(named) as [string, Tensor][];
    const batch = views[0]![1].size(0);
    for (const [name, t] of views) {
      if (t.size(1) !== this.outDim || (sameBatch && t.size(0) !== batch)) {
        const expected = sameBatch ? `= [${batch}, ${this.outDim}]` : `with outDim = ${this.outDim}`;
        throw new RangeError(`${where}: every view must be [B, outDim] ${expected}, got ${name} ${shapeText(t)}`);
      }
    }
    const device = views[0]![1].device;
    if (!sameDevice(device, this.center.device)) {
      throw new TypeError(`${where}: the logits are on ${device} but the center is on ${this.center.device}; move the loss with .to('${device}')`);
    }
  }

  protected override extraRepr(): string {
    return `outDim=${this.outDim}, studentTemperature=${this.studentTemperature}, teacherTemperature=${this.teacherTemperature}, centerMomentum=${this.centerMomentum}`;
  }
}
