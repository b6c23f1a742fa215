import { randn, randint, tidy, F, nn, optim, io } from '../src/index.js';

// Stand-ins for your data: 4 batches of 8 grey 28x28 images, labels 0-9.
const batches = Array.from({ length: 4 }, () => ({ x: randn([8, 1, 28, 28]), y: randint(0, 10, [8]) }));

const model = new nn.Sequential(
  new nn.Conv2d(1, 32, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(32), new nn.ReLU(),
  new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(32, 10),
);
const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
const sched = new optim.WarmupCosineLR(opt, { warmupSteps: 100, totalSteps: 5000 });

for (const { x, y } of batches) {
  const loss = tidy(() => {                      // frees every intermediate tensor
    const l = F.crossEntropy(model.forward(x), y, { labelSmoothing: 0.1 });
    opt.zeroGrad();
    l.backward();
    opt.step();
    return l.item();
  });
  sched.step();
  console.log(`loss ${loss.toFixed(4)}`);
}
model.freeze('0');                               // freeze by name prefix; frozen BN stays in eval mode
io.saveSafetensors('model.safetensors', model.stateDict());   // torch can load it (see scripts/)
