#!/usr/bin/env bash
# From a folder of your own images to a web page that finds similar ones.
# photos/ holds one sub-folder per class (or just images); STEPS=3 makes a smoke run.
set -euo pipefail
PHOTOS=${1:-photos}
STEPS=${STEPS:-1000}

# 1. Pretrain an encoder on the (unlabelled) images, resized to 32 x 32.
npx selfsup pretrain --method simclr --data folder:$PHOTOS --image-size 32 --steps $STEPS --out runs/mine
# 2. Embed every image: one row per file, with its path and label.
npx selfsup embed --encoder runs/mine --data folder:$PHOTOS --image-size 32 --out runs/mine/photos.safetensors
# 3. The images most similar to the first three, as a page of pictures.
npx selfsup similar --embeddings runs/mine/photos.safetensors --query-index 0,1,2 --html runs/mine/similar.html
# 4. The encoder as ONNX (for onnxruntime anywhere) and as a web page that runs it in the browser.
npx selfsup export --encoder runs/mine --out runs/mine/encoder.onnx
npx selfsup export --encoder runs/mine --format web --gallery folder:$PHOTOS --image-size 32 --out runs/mine/web
# 5. With labels: fine-tune on a few per class, keep the model, label a new image.
npx selfsup finetune --encoder runs/mine --data folder:$PHOTOS --image-size 32 --k 5 --seeds 0 --out runs/mine/model
npx selfsup predict --model runs/mine/model "$(find "$PHOTOS" -name '*.png' | head -1)"
echo "open runs/mine/similar.html and runs/mine/web/index.html in a browser"
