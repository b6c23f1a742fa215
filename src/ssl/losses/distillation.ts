// Knowledge distillation with soft targets:
// G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural Network", 2015,
// https://arxiv.org/abs/1503.02531; as SimCLR v2 distils its fine-tuned teacher:
// T. Chen, S. Kornblith, K. Swersky, M. Norouzi, G. Hinton, "Big Self-Supervised Models
// are Strong Semi-Supervised Learners", 2020, https://arxiv.org/abs/2006.10029 (Eq. 2).
//
// loss = -T^2 * mean_i sum_k softmax(teacher_i / T)_k log softmax(student_i / T)_k.
// The teacher's probabilities carry no gradient (they are the targets). The T^2 factor
// is Hinton et al.'s, keeping the gradients' size independent of T; SimCLR v2's Eq. 2
// has no such factor, which makes no difference at its T = 1.
//
// Default: temperature 1, plain cross-entropy with the teacher's probabilities
// (Hinton et al. also distil at higher T, with the T^2 factor).
import { Tensor, noGrad, tidy } from '../../tensor/index.js';
import { checkMatrices, checkPositive, checkSameShape } from './check.js';

export interface DistillationOptions {
  /** T dividing both logits; default 1. */
  temperature?: number;
}

/** Hinton et al.'s distillation loss for student and teacher logits [N, C]. */
export function distillationLoss(studentLogits: Tensor, teacherLogits: Tensor, options: DistillationOptions = {}): Tensor {
  const temperature = options.temperature ?? 1;
  checkMatrices('distillationLoss', { studentLogits, teacherLogits });
  checkSameShape('distillationLoss', { studentLogits, teacherLogits });
  checkPositive('distillationLoss', 'temperature', temperature);
  return tidy(() => {
    const targets = noGrad(() => teacherLogits.div(temperature).softmax(1));
    return crossEntropyWithProbs(studentLogits.div(temperature), targets).mul(temperature * temperature);
  });
}

/**
 * -mean_i sum_k targetProbs_ik log softmax(logits_i)_k, for given probabilities [N, C]
 * (rows summing to 1; not checked). Gradients flow into both arguments.
 */
export function softTargetCrossEntropy(logits: Tensor, targetProbs: Tensor): Tensor {
  checkMatrices('softTargetCrossEntropy', { logits, targetProbs });
  checkSameShape('softTargetCrossEntropy', { logits, targetProbs });
  return tidy(() => crossEntropyWithProbs(logits, targetProbs));
}

function crossEntropyWithProbs(logits: Tensor, probs: Tensor): Tensor {
  return probs.mul(logits.logSoftmax(1)).sum(1).mean().neg();
}
