// The self-supervised losses against PyTorch: test/fixtures/ssl_losses.json (from
// scripts/make_ssl_loss_fixtures.py) holds random inputs, each loss written again from
// its paper in PyTorch, and the gradients of the loss with respect to every input.
// selfsup recomputes both in float64 (the formulas must agree to ~1e-10) and in float32
// (the precision users get, within 1e-5). Then: input checks, scalars, leaks, DINO's center.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, tensor, randn, zeros, eye, memory, tidy, noGrad, type DType } from '../src/tensor/index.js';
import {
  ntXentLoss, infoNceLoss, negativeCosineSimilarity, barlowTwinsLoss, vicregLoss, vicregLossParts,
  DinoLoss, distillationLoss, softTargetCrossEntropy, maeLoss, type MaeLossOptions,
} from '../src/ssl/losses/index.js';

// ------------------------------------------------------------------ fixture

interface Enc { shape: number[]; data: number[] }
type Arg = Enc | Enc[] | null;
type Grad = Enc | (Enc | null)[] | null;
interface Case {
  name: string;
  options: Record<string, number | boolean>;
  args: Arg[];
  loss: number;
  grads: Grad[];
  parts?: number[];
  center?: Enc;
  centerAfterUpdate?: Enc;
}
type Fixture = Record<string, Case[]>;

const fixture: Fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/ssl_losses.json', import.meta.url), 'utf8'));

/** The fixture's float32 values, exactly, as a leaf of `dtype` that requires grad. */
function leaf(e: Enc, dtype: DType): Tensor {
  return tidy(() => tensor(Float32Array.from(e.data), { shape: e.shape }).to(dtype)).requiresGrad_(true);
}

function makeArgs(args: Arg[], dtype: DType): (Tensor | Tensor[] | null)[] {
  return args.map((a) => (a === null ? null : Array.isArray(a) ? a.map((e) => leaf(e, dtype)) : leaf(a, dtype)));
}

/** max |actual - expected| / max |expected|: relative to the tensor's scale, so entries near 0 do not blow it up. */
function scaledDifference(actual: number[], expected: number[]): number {
  assert.equal(actual.length, expected.length, 'number of values');
  const scale = Math.max(...expected.map(Math.abs), 1e-30);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!) / scale;
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

const TOLERANCE: Record<'float32' | 'float64', number> = { float32: 1e-5, float64: 1e-10 };
/** The largest differences seen, per loss and dtype, reported at the end. */
const worst = new Map<string, { loss: number; grad: number }>();

function note(key: string, kind: 'loss' | 'grad', value: number): void {
  const w = worst.get(key) ?? { loss: 0, grad: 0 };
  w[kind] = Math.max(w[kind], value);
  worst.set(key, w);
}

function compareGrad(t: Tensor, expected: Enc | null, what: string, key: string, tol: number): void {
  const g = t.grad;
  try {
    if (expected === null) {
      assert.equal(g, null, `${what}: PyTorch gives no gradient here (stop-gradient), selfsup has one`);
      return;
    }
    assert.ok(g, `${what}: no gradient`);
    assert.deepEqual(g.shape, expected.shape, `${what}: shape`);
    const d = scaledDifference(g.dataNumbers(), expected.data);
    note(key, 'grad', d);
    assert.ok(d <= tol, `${what}: gradient differs from PyTorch's by ${d.toExponential(2)} of its largest entry (tolerance ${tol})`);
  } finally {
    g?.dispose();
  }
}

type Runner = (c: Case, args: (Tensor | Tensor[] | null)[]) => Tensor;

const RUNNERS: Record<string, Runner> = {
  ntXent: (c, [z0, z1]) => ntXentLoss(z0 as Tensor, z1 as Tensor, c.options),
  infoNce: (c, [q, k, negatives]) => infoNceLoss(q as Tensor, k as Tensor, negatives as Tensor | null, c.options),
  negativeCosine: (_c, [p, z]) => negativeCosineSimilarity(p as Tensor, z as Tensor),
  barlowTwins: (c, [z0, z1]) => barlowTwinsLoss(z0 as Tensor, z1 as Tensor, c.options),
  vicreg: (c, [z0, z1]) => vicregLoss(z0 as Tensor, z1 as Tensor, c.options),
  dino: (c, [student, teacher]) => {
    using loss = dinoWithCenter(c);
    return loss.forward(student as Tensor[], teacher as Tensor[]);
  },
  distillation: (c, [s, t]) => distillationLoss(s as Tensor, t as Tensor, c.options),
  softTargetCrossEntropy: (_c, [logits, probs]) => softTargetCrossEntropy(logits as Tensor, probs as Tensor),
  mae: (c, [pred, target, mask]) => maeLoss(pred as Tensor, target as Tensor, mask as Tensor, c.options as MaeLossOptions),
};

/** A DinoLoss with the case's options and its (non-zero) center loaded from the fixture. */
function dinoWithCenter(c: Case): DinoLoss {
  const loss = new DinoLoss(c.options as { outDim: number });
  tidy(() => loss.loadStateDict({ center: tensor(Float32Array.from(c.center!.data), { shape: c.center!.shape }) }));
  return loss;
}

describe('losses match PyTorch references written from the papers', () => {
  for (const [lossName, cases] of Object.entries(fixture)) {
    for (const c of cases) {
      for (const dtype of ['float64', 'float32'] as const) {
        test(`${lossName} ${c.name} (${dtype})`, () => tidy(() => {
          const key = `${lossName} ${dtype}`;
          const tol = TOLERANCE[dtype];
          const args = makeArgs(c.args, dtype);
          const out = RUNNERS[lossName]!(c, args);
          assert.deepEqual(out.shape, [], 'the loss is a scalar');
          assert.equal(out.dtype, dtype);
          const lossDifference = Math.abs(out.item() - c.loss) / Math.abs(c.loss);
          note(key, 'loss', lossDifference);
          assert.ok(lossDifference <= tol, `loss ${out.item()}, PyTorch ${c.loss} (relative difference ${lossDifference.toExponential(2)})`);
          out.backward();
          args.forEach((a, i) => {
            const expected = c.grads[i]!;
            if (a === null) return;
            if (Array.isArray(a)) a.forEach((t, j) => compareGrad(t, (expected as (Enc | null)[] | null)?.[j] ?? null, `d loss / d args[${i}][${j}]`, key, tol));
            else compareGrad(a, expected as Enc | null, `d loss / d args[${i}]`, key, tol);
          });
        }));
      }
    }
  }

  test('vicregLossParts gives the three terms PyTorch gives, and the same loss', () => tidy(() => {
    for (const c of fixture.vicreg!) {
      const [z0, z1] = makeArgs(c.args, 'float64') as Tensor[];
      const { loss, invariance, variance, covariance } = vicregLossParts(z0!, z1!, c.options);
      [invariance, variance, covariance].forEach((part, i) => {
        const expected = c.parts![i]!;
        assert.ok(Math.abs(part.item() - expected) <= 1e-10 * Math.max(Math.abs(expected), 1), `${c.name} part ${i}: ${part.item()} vs ${expected}`);
      });
      assert.equal(loss.item(), vicregLoss(z0!, z1!, c.options).item());
    }
  }));

  test('DinoLoss.updateCenter moves the center as PyTorch does', () => tidy(() => {
    for (const c of fixture.dino!) {
      using loss = dinoWithCenter(c);
      const teacher = (c.args[1] as Enc[]).map((e) => leaf(e, 'float32'));
      const before = loss.center;
      loss.updateCenter(teacher);
      assert.equal(loss.center, before, 'updated in place');
      assert.equal(loss.center.requiresGrad, false);
      const d = scaledDifference(loss.center.dataNumbers(), c.centerAfterUpdate!.data);
      assert.ok(d <= 1e-6, `${c.name}: center differs by ${d}`);
    }
  }));

  test('largest differences from PyTorch (diagnostic)', (t) => {
    for (const [key, w] of [...worst].sort()) {
      t.diagnostic(`${key}: loss ${w.loss.toExponential(2)} relative, gradients ${w.grad.toExponential(2)} of their largest entry`);
    }
    assert.ok(worst.size > 0);
  });
});

// ------------------------------------------------------------------ behaviour

const x = (rows: number, dims: number): Tensor => randn([rows, dims]);

describe('input checks name the loss and the shapes', () => {
  test('NT-Xent', () => tidy(() => {
    assert.throws(() => ntXentLoss(x(4, 8), x(4, 7)), { name: 'RangeError', message: "ntXentLoss: 'z0' and 'z1' must have the same shape, got [4, 8] and [4, 7]" });
    assert.throws(() => ntXentLoss(randn([8]), x(4, 2)), { name: 'RangeError', message: "ntXentLoss: 'z0' must be 2-D [rows, dims], got shape [8]" });
    assert.throws(() => ntXentLoss(x(4, 8), [1, 2] as unknown as Tensor), { name: 'TypeError', message: "ntXentLoss: 'z1' must be a Tensor, got an array" });
    assert.throws(() => ntXentLoss(zeros([4, 8], { dtype: 'int64' }), x(4, 8)), { name: 'TypeError', message: "ntXentLoss: 'z0' must be floating point, got int64" });
    assert.throws(() => ntXentLoss(x(4, 8), x(4, 8).double()), { name: 'TypeError', message: "ntXentLoss: 'z1' is float64 but 'z0' is float32" });
    assert.throws(() => ntXentLoss(x(4, 8), x(4, 8).to('meta')), { name: 'TypeError', message: "ntXentLoss: 'z1' is on meta but 'z0' is on cpu; move them to one device" });
    assert.throws(() => ntXentLoss(x(4, 8), x(4, 8), { temperature: 0 }), { name: 'RangeError', message: 'ntXentLoss: temperature must be a finite number > 0, got 0' });
    assert.throws(() => ntXentLoss(x(0, 8), x(0, 8)), { name: 'RangeError', message: "ntXentLoss: 'z0' needs at least 1 row, got shape [0, 8]" });
  }));

  test('InfoNCE', () => tidy(() => {
    assert.throws(() => infoNceLoss(x(4, 8), x(5, 8), null), { name: 'RangeError', message: "infoNceLoss: 'query' and 'key' must have the same shape, got [4, 8] and [5, 8]" });
    assert.throws(() => infoNceLoss(x(4, 8), x(4, 8), x(16, 6)), {
      name: 'RangeError', message: "infoNceLoss: 'negatives' must be [K, 8] like the query's dims, got query [4, 8] and negatives [16, 6]",
    });
    assert.throws(() => infoNceLoss(x(4, 8), x(4, 8), x(0, 8)), { name: 'RangeError', message: "infoNceLoss: 'negatives' needs at least 1 row, got shape [0, 8]" });
    assert.throws(() => infoNceLoss(x(4, 8), x(4, 8), randn([2, 4, 8])), { name: 'RangeError', message: /infoNceLoss: 'negatives' must be 2-D .*\[2, 4, 8\]/ });
  }));

  test('negative cosine, Barlow Twins, VICReg', () => tidy(() => {
    assert.throws(() => negativeCosineSimilarity(x(4, 8), x(4, 9)), { name: 'RangeError', message: "negativeCosineSimilarity: 'p' and 'z' must have the same shape, got [4, 8] and [4, 9]" });
    assert.throws(() => barlowTwinsLoss(x(4, 8), x(3, 8)), { name: 'RangeError', message: "barlowTwinsLoss: 'z0' and 'z1' must have the same shape, got [4, 8] and [3, 8]" });
    assert.throws(() => barlowTwinsLoss(x(1, 8), x(1, 8)), { name: 'RangeError', message: "barlowTwinsLoss: 'z0' needs at least 2 rows, got shape [1, 8]" });
    assert.throws(() => barlowTwinsLoss(x(4, 8), x(4, 8), { lambda: -1 }), { name: 'RangeError', message: /barlowTwinsLoss: lambda must be a finite number >= 0/ });
    assert.throws(() => vicregLoss(x(4, 8), x(4, 2)), { name: 'RangeError', message: "vicregLoss: 'z0' and 'z1' must have the same shape, got [4, 8] and [4, 2]" });
    assert.throws(() => vicregLossParts(x(1, 8), x(1, 8)), { name: 'RangeError', message: "vicregLoss: 'z0' needs at least 2 rows, got shape [1, 8]" });
    assert.throws(() => vicregLoss(x(4, 8), x(4, 8), { eps: 0 }), { name: 'RangeError', message: /vicregLoss: eps must be a finite number > 0/ });
  }));

  test('DINO', () => tidy(() => {
    using loss = new DinoLoss({ outDim: 8 });
    assert.throws(() => loss.forward([x(4, 8), x(4, 7)], [x(4, 8)]), {
      name: 'RangeError', message: 'DinoLoss.forward: every view must be [B, outDim] = [4, 8], got studentLogits[1] [4, 7]',
    });
    assert.throws(() => loss.forward([x(4, 8), x(4, 8)], [x(3, 8)]), { name: 'RangeError', message: /got teacherLogits\[0\] \[3, 8\]/ });
    assert.throws(() => loss.forward([x(4, 8)], [x(4, 8), x(4, 8)]), { name: 'RangeError', message: /got 1 student and 2 teacher views/ });
    assert.throws(() => loss.forward([x(4, 8)], [x(4, 8)]), { name: 'RangeError', message: /at least 2 views in all/ });
    assert.throws(() => loss.forward([], [x(4, 8)]), { name: 'TypeError', message: "DinoLoss.forward: 'studentLogits' must be a non-empty array of Tensors (one per view)" });
    assert.throws(() => loss.forward(x(4, 8)), { name: 'TypeError', message: /DinoLoss.forward: expected \(studentLogits: Tensor\[\], teacherLogits: Tensor\[\]\)/ });
    assert.throws(() => loss.forward([x(4, 8), x(4, 8)], [x(4, 8)], -1), { name: 'RangeError', message: /teacherTemperature must be a finite number > 0, got -1/ });
    assert.throws(() => loss.forward([x(4, 8), x(4, 8).to('meta')], [x(4, 8)]), { name: 'TypeError', message: /'studentLogits\[1\]' is on meta but 'studentLogits\[0\]' is on cpu/ });
    assert.throws(() => loss.updateCenter([x(4, 9)]), { name: 'RangeError', message: 'DinoLoss.updateCenter: every view must be [B, outDim] with outDim = 8, got teacherLogits[0] [4, 9]' });
    assert.throws(() => loss.updateCenter([]), { name: 'TypeError', message: "DinoLoss.updateCenter: 'teacherLogits' must be a non-empty array of Tensors (one per view)" });
    assert.throws(() => new DinoLoss({ outDim: 0 }), { name: 'RangeError', message: 'DinoLoss: outDim must be a positive integer, got 0' });
    assert.throws(() => new DinoLoss({ outDim: 4, centerMomentum: 1.5 }), { name: 'RangeError', message: 'DinoLoss: centerMomentum must be in [0, 1], got 1.5' });
  }));

  test('distillation', () => tidy(() => {
    assert.throws(() => distillationLoss(x(4, 10), x(4, 5)), { name: 'RangeError', message: "distillationLoss: 'studentLogits' and 'teacherLogits' must have the same shape, got [4, 10] and [4, 5]" });
    assert.throws(() => distillationLoss(x(4, 10), x(4, 10), { temperature: -2 }), { name: 'RangeError', message: /distillationLoss: temperature must be a finite number > 0, got -2/ });
    assert.throws(() => softTargetCrossEntropy(x(4, 10), x(5, 10)), { name: 'RangeError', message: "softTargetCrossEntropy: 'logits' and 'targetProbs' must have the same shape, got [4, 10] and [5, 10]" });
  }));

  test('MAE', () => tidy(() => {
    const p = (): Tensor => randn([2, 6, 12]);
    const mask = zeros([2, 6]);
    assert.throws(() => maeLoss(x(2, 12), x(2, 12), mask), { name: 'RangeError', message: "maeLoss: 'pred' must be 3-D [N, patches, values], got shape [2, 12]" });
    assert.throws(() => maeLoss(p(), randn([2, 6, 11]), mask), { name: 'RangeError', message: "maeLoss: 'pred' and 'target' must have the same shape, got [2, 6, 12] and [2, 6, 11]" });
    assert.throws(() => maeLoss(p(), p(), zeros([2, 5])), { name: 'RangeError', message: "maeLoss: 'mask' must be [2, 6] (one entry per patch), got [2, 5]" });
    assert.throws(() => maeLoss(p(), p().to('float64'), mask), { name: 'TypeError', message: "maeLoss: 'target' is float64 but 'pred' is float32" });
    assert.throws(() => maeLoss(p(), p(), mask, { eps: 0 }), { name: 'RangeError', message: /maeLoss: eps must be a finite number > 0/ });
    assert.throws(() => maeLoss(randn([2, 6, 1]), randn([2, 6, 1]), mask), { name: 'RangeError', message: /normPixLoss needs patches of at least 2 values/ });
  }));
});

describe('losses leave only their result behind', () => {
  const twoInputs = (): Tensor[] => [x(6, 5).requiresGrad_(), x(6, 5).requiresGrad_()];
  const calls: [string, number, () => Tensor[], (inputs: Tensor[]) => unknown][] = [
    ['ntXentLoss', 1, twoInputs, ([a, b]) => ntXentLoss(a!, b!)],
    ['infoNceLoss', 1, () => [...twoInputs(), x(9, 5)], ([q, k, n]) => infoNceLoss(q!, k!, n!)],
    ['infoNceLoss without negatives', 1, twoInputs, ([q, k]) => infoNceLoss(q!, k!, null)],
    ['negativeCosineSimilarity', 1, twoInputs, ([p, z]) => negativeCosineSimilarity(p!, z!)],
    ['barlowTwinsLoss', 1, twoInputs, ([a, b]) => barlowTwinsLoss(a!, b!)],
    ['vicregLoss', 1, twoInputs, ([a, b]) => vicregLoss(a!, b!)],
    ['vicregLossParts (four results)', 4, twoInputs, ([a, b]) => vicregLossParts(a!, b!)],
    ['distillationLoss', 1, twoInputs, ([s, t]) => distillationLoss(s!, t!)],
    ['softTargetCrossEntropy', 1, () => [x(6, 5).requiresGrad_(), x(6, 5).softmax(1)], ([l, p]) => softTargetCrossEntropy(l!, p!)],
    ['maeLoss', 1, () => [randn([2, 6, 12]).requiresGrad_(), randn([2, 6, 12]), randn([2, 6]).gt(0)], ([p, t, m]) => maeLoss(p!, t!, m!)],
  ];
  for (const [name, results, makeInputs, call] of calls) {
    test(name, () => tidy(() => {
      const inputs = makeInputs();
      const before = memory().numTensors;
      call(inputs);
      assert.equal(memory().numTensors, before + results, `${name} left ${memory().numTensors - before - results} tensors besides its result`);
    }));
  }

  test('DinoLoss forward and updateCenter', () => tidy(() => {
    using loss = new DinoLoss({ outDim: 5 });
    const student = [x(4, 5), x(4, 5), x(4, 5)].map((t) => t.requiresGrad_());
    const teacher = [x(4, 5), x(4, 5)];
    const before = memory().numTensors;
    const out = loss.forward(student, teacher);
    assert.equal(memory().numTensors, before + 1);
    loss.updateCenter(teacher);
    assert.equal(memory().numTensors, before + 1);
    out.backward();
    out.dispose();
    assert.equal(memory().numTensors, before);
  }));

  test('nothing is left after the outer tidy', () => {
    const before = memory().numTensors;
    tidy(() => {
      ntXentLoss(x(6, 5).requiresGrad_(), x(6, 5)).backward();
      vicregLossParts(x(6, 5), x(6, 5));
    });
    assert.equal(memory().numTensors, before);
  });
});

describe('DinoLoss', () => {
  test("owns a zero center [1, outDim] saved as 'center'", () => tidy(() => {
    using loss = new DinoLoss({ outDim: 6 });
    const sd = loss.stateDict();
    assert.deepEqual([...sd.keys()], ['center']);
    assert.equal(sd.get('center'), loss.center);
    assert.deepEqual(loss.center.shape, [1, 6]);
    assert.deepEqual(loss.center.dataNumbers(), [0, 0, 0, 0, 0, 0]);
    assert.equal(loss.parameters().length, 0, 'nothing to train');
    assert.equal(loss.studentTemperature, 0.1);
    assert.equal(loss.teacherTemperature, 0.04);
    assert.equal(loss.centerMomentum, 0.9);
  }));

  test('the center round-trips through a state dict', () => tidy(() => {
    using a = new DinoLoss({ outDim: 4, centerMomentum: 0.5 });
    a.updateCenter([tensor([[1, 2, 3, 4], [3, 2, 1, 0]])]);
    assert.deepEqual(a.center.dataNumbers(), [1, 1, 1, 1]); // 0.5 * 0 + 0.5 * [2, 2, 2, 2]
    using b = new DinoLoss({ outDim: 4 });
    b.loadStateDict(a.stateDict());
    assert.deepEqual(b.center.dataNumbers(), [1, 1, 1, 1]);
  }));

  test('updateCenter averages all teacher views together', () => tidy(() => {
    using loss = new DinoLoss({ outDim: 2, centerMomentum: 0 });
    loss.updateCenter([tensor([[0, 4]]), tensor([[2, 0], [4, 2]])]);
    assert.deepEqual(loss.center.dataNumbers(), [2, 2]);
  }));

  test('a teacherTemperature argument overrides the option', () => tidy(() => {
    const student = [x(4, 5), x(4, 5), x(4, 5)];
    const teacher = [x(4, 5), x(4, 5)];
    using warm = new DinoLoss({ outDim: 5, teacherTemperature: 0.07 });
    using plain = new DinoLoss({ outDim: 5 });
    assert.equal(plain.forward(student, teacher, 0.07).item(), warm.forward(student, teacher).item());
    assert.notEqual(plain.forward(student, teacher).item(), warm.forward(student, teacher).item());
  }));

  test('the teacher gets no gradient, the student does', () => tidy(() => {
    using loss = new DinoLoss({ outDim: 5 });
    const student = [x(4, 5), x(4, 5)].map((t) => t.requiresGrad_());
    const teacher = [x(4, 5)].map((t) => t.requiresGrad_());
    loss.forward(student, teacher).backward();
    assert.equal(teacher[0]!.grad, null);
    assert.ok(student[1]!.grad);
    // Student view 0 is the teacher's own crop: it is never compared with itself.
    assert.equal(student[0]!.grad, null);
  }));
});

describe('other properties', () => {
  test('InfoNCE with negatives null contrasts each query with the batch keys (works with an empty queue)', () => tidy(() => {
    const q = x(6, 4).requiresGrad_();
    const k = x(6, 4).requiresGrad_();
    const loss = infoNceLoss(q, k, null, { temperature: 0.3 });
    assert.ok(Number.isFinite(loss.item()));
    loss.backward();
    assert.ok(q.grad && k.grad, 'both the queries and the keys get gradients (detaching is the caller\'s business)');
    // The same as a cross-entropy over cosine similarities / T with target i.
    const cos = noGrad(() => {
      const qn = q.div(q.norm(2, 1, true));
      const kn = k.div(k.norm(2, 1, true));
      return qn.mm(kn.T).div(0.3);
    });
    const manual = cos.logSoftmax(1).mul(eye(6)).sum(1).mean().neg(); // picks log p(i | query i)
    assert.ok(Math.abs(manual.item() - loss.item()) < 1e-5);
  }));

  test('distillation at temperature 1 is the soft-target cross-entropy with the teacher\'s softmax, and leaves the teacher alone', () => tidy(() => {
    const student = x(5, 7).requiresGrad_();
    const teacher = x(5, 7).requiresGrad_();
    const loss = distillationLoss(student, teacher);
    const reference = softTargetCrossEntropy(student, teacher.softmax(1));
    assert.ok(Math.abs(loss.item() - reference.item()) < 1e-6);
    loss.backward();
    assert.equal(teacher.grad, null);
    assert.ok(student.grad);
  }));

  test('temperature scales the distillation loss by T^2 on equal logits', () => tidy(() => {
    // With identical student and teacher the loss is T^2 times the entropy of softmax(logits / T).
    const logits = x(3, 4);
    const t = 3;
    const p = logits.div(t).softmax(1);
    const entropy = p.mul(p.log()).sum(1).mean().neg().item();
    assert.ok(Math.abs(distillationLoss(logits, logits, { temperature: t }).item() - t * t * entropy) < 1e-5);
  }));
});

describe('maeLoss', () => {
  test('a bool mask gives what a 0/1 float mask gives; an empty mask gives 0; only masked patches count', () => tidy(() => {
    const pred = randn([3, 8, 6]);
    const target = randn([3, 8, 6]);
    const mask = randn([3, 8]).gt(0);
    const a = maeLoss(pred, target, mask).item();
    assert.ok(Math.abs(a - maeLoss(pred, target, mask.to('float32')).item()) < 1e-7);
    assert.equal(maeLoss(pred, target, zeros([3, 8])).item(), 0);
    // Changing a visible patch's prediction leaves the loss alone.
    const visible = mask.logicalNot().to('float32').unsqueeze(2);
    const moved = pred.add(visible.mul(5));
    assert.ok(Math.abs(maeLoss(moved, target, mask).item() - a) < 1e-6);
  }));

  test('without normPixLoss it is the mean over masked patches of the per-patch MSE', () => tidy(() => {
    const pred = randn([2, 4, 3]);
    const target = randn([2, 4, 3]);
    const mask = tensor([[1, 0, 0, 1], [0, 0, 1, 0]], { shape: [2, 4] });
    const expected = pred.sub(target).square().mean(-1).mul(mask).sum().item() / 3;
    assert.ok(Math.abs(maeLoss(pred, target, mask, { normPixLoss: false }).item() - expected) < 1e-6);
  }));

  test('the mask gets no gradient, the predictions do', () => tidy(() => {
    const pred = randn([2, 4, 3]).requiresGrad_();
    const mask = randn([2, 4]).gt(-10).to('float32').requiresGrad_();
    maeLoss(pred, randn([2, 4, 3]), mask).backward();
    assert.ok(pred.grad);
    assert.equal(mask.grad, null);
  }));
});
