// DINO (Caron et al. 2021, https://arxiv.org/abs/2104.14294): self-distillation with no
// labels. A student matches the softmax output of a momentum teacher over K prototypes;
// centring and a sharp teacher temperature keep the teacher from collapsing. Optional
// multi-crop: the teacher sees the 2 global views, the student also small local crops.
// Paper: 65,536 prototypes, 2048-256 head, teacher T 0.04 -> 0.07, student T 0.1,
// momentum 0.996 -> 1. Here: 1,024 prototypes and a 512-128 head for a 128-d encoder,
// teacher T 0.04 throughout (the warm-up is set in steps by `teacherTemperatureWarmup`),
// and no local crops by default (28x28 leaves little room for them; `localCrops` adds them).
import { gatherNoGrad } from '../../distributed/default-group.js';
import { noGrad, tidy, type Tensor } from '../../tensor/index.js';
import type { Backbone } from '../../models/index.js';
import type { StepContext, StepOutput } from '../../train/trainer.js';
import { DinoLoss } from '../losses/index.js';
import { dinoViews } from '../transforms/index.js';
import { DinoHead } from '../heads.js';
import { frozenCopy, emaUpdate_, cosineMomentum } from '../momentum.js';
import type { MethodContext, ViewBatch } from '../method.js';
import { JointEmbedding, viewOptions } from './joint-embedding.js';

export const DINO_DEFAULTS = {
  prototypes: 1024, hiddenDim: 512, bottleneckDim: 128, studentTemperature: 0.1, teacherTemperature: 0.04,
  /** Teacher temperature at the start of the warm-up (reaches `teacherTemperature` after the warm-up steps). */
  warmupTeacherTemperature: 0.04, teacherTemperatureWarmup: 0, baseMomentum: 0.996, centerMomentum: 0.9,
  localCrops: 0, localSize: 12, globalMinScale: 0.4, localMaxScale: 0.4,
};
export type DinoOptions = Partial<typeof DINO_DEFAULTS>;

export class DINO extends JointEmbedding {
  readonly name = 'dino';
  readonly head: DinoHead;
  readonly teacherEncoder: Backbone;
  readonly teacherHead: DinoHead;
  readonly criterion: DinoLoss;
  readonly o: typeof DINO_DEFAULTS;

  constructor(encoder: Backbone, ctx: MethodContext, options: DinoOptions = {}) {
    const o = { ...DINO_DEFAULTS, ...options };
    super(encoder, dinoViews({
      ...viewOptions(ctx), localCrops: o.localCrops,
      localSize: [o.localSize, o.localSize], globalScale: [o.globalMinScale, 1], localScale: [0.05, o.localMaxScale],
    }));
    this.o = o;
    const makeHead = (): DinoHead => new DinoHead(encoder.embedDim, o.prototypes, o.hiddenDim, o.bottleneckDim);
    this.head = this.registerModule('head', makeHead());
    this.teacherEncoder = this.registerModule('teacherEncoder', frozenCopy(encoder, encoder.cloneArchitecture()));
    this.teacherHead = this.registerModule('teacherHead', frozenCopy(this.head, makeHead()));
    this.criterion = this.registerModule('criterion', new DinoLoss({
      outDim: o.prototypes, studentTemperature: o.studentTemperature, teacherTemperature: o.teacherTemperature, centerMomentum: o.centerMomentum,
    }));
  }

  trainingStep(batch: ViewBatch, ctx: StepContext): StepOutput {
    const views = this.makeViews(batch);
    const globals = views.slice(0, 2);
    const locals = views.slice(2);
    const hGlobal = this.embedViews(globals);
    const student: Tensor[] = this.through(this.head, hGlobal);
    if (locals.length) student.push(...this.through(this.head, this.embedViews(locals)));
    const teacher = noGrad(() => tidy(() => this.through(this.teacherHead, this.embedViews(globals, this.teacherEncoder))));
    const loss = this.criterion.forward(student, teacher, this.teacherTemperatureAt(ctx.step));
    // The centre enters the loss without gradient, so it may move now; data-parallel, over every rank's teacher outputs (as DINO's all-reduce).
    this.criterion.updateCenter(teacher.map(gatherNoGrad));
    return { loss, count: globals.length * hGlobal[0]!.shape[0]!, logs: this.spreadLog(hGlobal[0]!) };
  }

  override afterStep(ctx: StepContext): void {
    const m = cosineMomentum(ctx.step + 1, ctx.totalSteps, this.o.baseMomentum);
    emaUpdate_(this.teacherEncoder, this.encoder, m);
    emaUpdate_(this.teacherHead, this.head, m);
  }

  private teacherTemperatureAt(step: number): number {
    const { warmupTeacherTemperature: from, teacherTemperature: to, teacherTemperatureWarmup: warm } = this.o;
    return warm > 0 && step < warm ? from + (to - from) * (step / warm) : to;
  }
}
